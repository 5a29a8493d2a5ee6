"""The reliability report's promises, at the small size `make test` affords (`make reliability` prints it all)."""

from __future__ import annotations

import pytest

import vozo
from bench import reliability

# On the job-creating request, each fault must end in this error, raised at once (no retry could be safe) ...
# What a create meets when the fault hits it; a fault not listed is absorbed (a 429 is a refusal: Vozo created
# nothing, so the create is retried and succeeds).
ON_CREATE = {
    "500 burst": vozo.InternalServerError,
    "502 burst": vozo.InternalServerError,
    "503 burst": vozo.InternalServerError,
    "HTML error pages (502)": vozo.InternalServerError,
    "reset before handling": vozo.APIConnectionError,
    "reset after handling": vozo.APIConnectionError,
    "read timeout": vozo.APITimeoutError,
    "malformed JSON": vozo.APIResponseValidationError,
}
# ... and everywhere else it is absorbed: the job is waited for and downloaded whole.


@pytest.mark.parametrize("fault", reliability.FAULTS, ids=lambda f: f.name)
def test_each_fault_ends_as_promised(fault, monkeypatch) -> None:
    monkeypatch.setattr(vozo._retry, "INITIAL_DELAY", 0.01)
    flavours = ("sync", "async") if fault.name.startswith("reset") else ("async",)
    for phase in fault.phases:
        for flavour in flavours:
            row = reliability.run_fault(fault, phase, flavour)
            assert (row.duplicates, row.partial_files) == (0, 0), row
            assert row.absorbed > 0, row  # the fault really was served
            expected = ON_CREATE.get(fault.name) if phase == "create" else None
            if expected is None:
                assert row.outcome == "ok", row
            else:
                assert issubclass(getattr(vozo, row.outcome), expected), row


def test_every_bad_input_is_refused_before_any_request() -> None:
    rows = reliability.bad_inputs()
    assert len(rows) == len(reliability.BAD_INPUTS) + 2
    for case, raised, message, sent in rows:
        assert sent == 0, case
        assert issubclass(getattr(vozo, raised, type(None)), vozo.VozoError), (case, raised)
        assert message, case


def test_a_debug_session_never_shows_the_key() -> None:
    clean, captured = reliability.secrets_check()
    assert captured > 1000  # the session really logged (requests, retries, errors)
    assert clean
