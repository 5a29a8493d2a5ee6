"""A local stand-in for the Vozo API, for your tests and ours: ``FakeVozo``.

Needs the ``testing`` extra (``pip install 'vozo[testing]'``): Starlette, uvicorn and jsonschema.

    from vozo.testing import FakeVozo

    fake = FakeVozo(api_keys=["test-key"], step_seconds=0.05)
    with fake.serve() as base_url:                     # a real socket, for Vozo or AsyncVozo
        client = vozo.Vozo(api_key="test-key", base_url=base_url)
        ...
    # or in-process (the host is never dialled, yet plain http is refused off loopback; httpx.Client for Vozo):
    # vozo.AsyncVozo(api_key="test-key", base_url="https://vozo.test",
    #                http_client=httpx.AsyncClient(transport=fake.transport()))

Tests whose verdict depends on when a job changes status should not race the wall clock: give the fake a manual
clock and move it yourself. Nothing finishes until you say so.

    from vozo.testing import FakeVozo, ManualClock

    fake = FakeVozo(clock=ManualClock(), step_seconds=1.0)
    ...                                                # jobs created now stay at their first status
    fake.advance(1.0)                                  # every job moves one status on

To test what your code does while Vozo has created a job but its answer (the task id) has not come back yet:

    with fake.hold_creates() as hold:                  # creates are handled, their answers held
        ...                                            # start a create in another thread or process
        hold.held.wait(10)                             # its job exists (hold.task_ids); the caller still waits
        hold.release()                                 # the answers go out (leaving the block does too)
"""

from vozo._extras import requires_extra

with requires_extra("testing", "vozo.testing"):
    from vozo.testing._fake import CreateHold, CreateRequest, FakeJob, FakeVozo, Faults, InProcessTransport, ManualClock

__all__ = ["CreateHold", "CreateRequest", "FakeJob", "FakeVozo", "Faults", "InProcessTransport", "ManualClock"]
