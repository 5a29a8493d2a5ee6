"""A local stand-in for the Vozo API, for your tests and ours: ``FakeVozo``.

Needs the ``testing`` extra (``pip install 'vozo[testing]'``): Starlette, uvicorn and jsonschema.

    from vozo.testing import FakeVozo

    fake = FakeVozo(api_keys=["test-key"], step_seconds=0.05)
    with fake.serve() as base_url:                     # a real socket, for Vozo or AsyncVozo
        client = vozo.Vozo(api_key="test-key", base_url=base_url)
        ...
    # or in-process: vozo.AsyncVozo(..., http_client=httpx.AsyncClient(transport=fake.transport()))
"""

from vozo._extras import requires_extra

with requires_extra("testing", "vozo.testing"):
    from vozo.testing._fake import FakeJob, FakeVozo, Faults

__all__ = ["FakeJob", "FakeVozo", "Faults"]
