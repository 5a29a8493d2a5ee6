"""The generated models are tolerant by construction (template override), not by wrapper workarounds."""

from __future__ import annotations

from vozo_api_client.models import JobStatus, JobStatusStatus, MediaTranslateJobStatus, Model


def test_an_unknown_status_value_parses_and_keeps_its_raw_value() -> None:
    status = JobStatus.from_dict({"status": "queued_for_gpu", "video_url": "https://x/v.mp4"})
    assert isinstance(status.status, JobStatusStatus)
    assert status.status.value == "queued_for_gpu"
    assert status.status.name == "UNKNOWN"
    assert status.status != JobStatusStatus.DONE
    assert status.to_dict() == {"status": "queued_for_gpu", "video_url": "https://x/v.mp4"}
    assert "queued_for_gpu" not in [member.value for member in JobStatusStatus]


def test_known_values_still_are_the_members() -> None:
    assert JobStatusStatus("done") is JobStatusStatus.DONE
    assert Model("precision_v1") is Model.PRECISION_V1


def test_fields_vozo_adds_survive_a_round_trip() -> None:
    body = {
        "status": "rendering",
        "progress": 42,
        "result": {"video_url": "https://x/v.mp4", "thumbnail_url": "https://x/t.jpg"},
    }
    status = MediaTranslateJobStatus.from_dict(body)
    assert status.additional_properties == {"progress": 42}
    assert status.to_dict() == body


def test_a_field_the_response_did_not_carry_reads_as_unset_in_reprs() -> None:
    import vozo.types

    status = vozo.types.LipsyncJobStatus.from_dict({"status": "pending"})
    assert "video_url=UNSET" in repr(status)
    assert status.video_url is vozo.types.UNSET
    assert (status.video_url or None) is None
