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


def test_a_pickled_or_copied_status_keeps_its_fields_unset() -> None:
    """Statuses are cached and sent between processes (pickle, deepcopy): an absent field must stay the one UNSET,
    or ``to_dict`` sends the copy as a value and ``json.dumps`` of it fails."""
    import copy
    import json
    import pickle

    from vozo_api_client.types import UNSET

    body = {"status": "queued_for_gpu", "result": {"subtitle_url": "https://x/s.srt"}, "progress": 3}
    status = MediaTranslateJobStatus.from_dict(body)
    pickled = pickle.loads(pickle.dumps(status))  # noqa: S301 - bytes this test just made
    for twin in (pickled, copy.deepcopy(status), copy.copy(status)):
        assert twin.err_code is UNSET
        assert twin.result is not UNSET
        assert twin.result.video_url is UNSET
        assert json.loads(json.dumps(twin.to_dict())) == body
        assert twin.status.value == "queued_for_gpu"
