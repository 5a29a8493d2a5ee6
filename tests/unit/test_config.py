from __future__ import annotations

import sys
from typing import Any

import httpx
import pytest

import vozo

from .conftest import API_KEY, BASE_URL, reply


def test_the_key_comes_from_the_argument_or_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VOZO_API_KEY", raising=False)
    with pytest.raises(vozo.VozoError, match="VOZO_API_KEY"):
        vozo.Vozo()
    with pytest.raises(vozo.VozoError, match="VOZO_API_KEY"):
        vozo.AsyncVozo(api_key="")
    monkeypatch.setenv("VOZO_API_KEY", API_KEY)
    monkeypatch.setenv("VOZO_BASE_URL", "https://eu.api.vozo.test/")
    client = vozo.Vozo()
    assert client.base_url == "https://eu.api.vozo.test"
    client.close()


def test_the_default_base_url_is_vozos(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VOZO_BASE_URL", raising=False)
    with vozo.Vozo(api_key=API_KEY) as client:
        assert client.base_url == "https://api.vozo.ai"
        assert client.max_retries == 2
        assert client.timeout.read == 60.0


@pytest.mark.parametrize("url", ["http://api.vozo.ai", "http://10.0.0.5:8000", "http://example.com/v1"])
def test_plain_http_to_another_host_is_refused(url: str) -> None:
    with pytest.raises(vozo.InvalidInputError, match="in clear"):
        vozo.Vozo(api_key=API_KEY, base_url=url)
    with pytest.raises(vozo.InvalidInputError, match="in clear"):
        vozo.AsyncVozo(api_key=API_KEY, base_url=url)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:4010", "http://localhost:8000", "http://[::1]:9", "http://127.8.0.1"]
)
def test_plain_http_to_this_machine_is_allowed(url: str) -> None:
    vozo.Vozo(api_key=API_KEY, base_url=url).close()


@pytest.mark.parametrize(
    "url",
    [
        *("ftp://api.vozo.ai", "api.vozo.ai", "https://", "http://[::1", "https://api.vozo.ai:99999", "https://h:x"),
        *("https://api..vozo.ai", f"https://{'a' * 64}.vozo.ai"),  # labels DNS cannot take: empty, or too long
    ],
)
def test_a_base_url_that_is_not_http_is_refused(url: str) -> None:
    with pytest.raises(vozo.InvalidInputError, match="base_url"):
        vozo.Vozo(api_key=API_KEY, base_url=url)


@pytest.mark.parametrize(
    "url",
    [
        "http://local\thost:8000",  # urllib drops tabs and newlines and reads localhost; httpx refuses them
        "https://api.vozo.test/v1\n/x",
        "https://api vozo.test",  # httpx would send to the host "api%20vozo.test"
        "https://api.vozo.test\u200b",
        "http://[::1",
        "http://localhost:abc",
        "http://localhost:99999",
        "https://api.vozo.test:0",
        "https://api..vozo.test",  # a host DNS cannot take: an empty label, or one over 63 characters
        "https://" + "a" * 64 + ".vozo.test",
    ],
)
def test_a_base_url_httpx_cannot_send_to_as_written_is_refused_before_any_request(api, url: str) -> None:
    with pytest.raises(vozo.InvalidInputError, match="base_url must be an http"):
        vozo.Vozo(api_key=API_KEY, base_url=url)
    with pytest.raises(vozo.InvalidInputError, match="base_url must be an http"):
        api.client.with_options(base_url=url)


@pytest.mark.parametrize("url", ["https://api.vozo.test/\n", "  https://api.vozo.test  ", "\thttps://api.vozo.test"])
def test_whitespace_around_a_base_url_is_trimmed(api, recorder, url: str) -> None:
    recorder.default = reply(200, {"status": "pending"})
    client = api.make(base_url=url)
    assert client.base_url == "https://api.vozo.test"
    api.call(lambda _: client.lipsync.get("t1"))
    assert recorder.requests[-1].url == "https://api.vozo.test/v1/video_generation/t1"


def test_a_blank_vozo_base_url_means_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOZO_BASE_URL", "  ")
    with vozo.Vozo(api_key=API_KEY) as client:
        assert client.base_url == "https://api.vozo.ai"


@pytest.mark.parametrize(
    "url", ["https://user:hunter2@api.vozo.test", "http://hunter2@localhost:8000", "http://127.0.0.1@hunter2.test"]
)
def test_a_base_url_with_a_user_or_password_is_refused_without_showing_it(url: str) -> None:
    with pytest.raises(vozo.InvalidInputError, match="user name or password") as info:
        vozo.Vozo(api_key=API_KEY, base_url=url)
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("HTTPS_PROXY", "ftp://proxy.test:21", "HTTPS_PROXY"),  # httpx: ValueError, unknown scheme
        ("HTTPS_PROXY", "http://[::1:3128", "HTTPS_PROXY"),  # httpx.InvalidURL
        ("ALL_PROXY", "socks5://127.0.0.1:1080", "pip install"),  # ImportError without socksio
        ("SSL_CERT_FILE", "/nonexistent/ca.pem", "SSL_CERT_FILE"),  # FileNotFoundError
        ("SSL_CERT_FILE", __file__, "SSL_CERT_FILE"),  # ssl.SSLError: no certificate in it
    ],
)
@pytest.mark.parametrize("client_class", [vozo.Vozo, vozo.AsyncVozo])
def test_a_proxy_or_certificate_variable_httpx_cannot_use_is_a_vozo_error_naming_it(
    monkeypatch: pytest.MonkeyPatch, client_class: type, variable: str, value: str, named: str
) -> None:
    monkeypatch.setitem(sys.modules, "socksio", None)  # as when httpx's socks extra is not installed
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv(variable, value)
    with pytest.raises(vozo.VozoError, match=named):
        client_class(api_key=API_KEY, base_url=BASE_URL)


@pytest.mark.parametrize("url", ["https://api.vozo.ai?region=eu", "https://api.vozo.ai/#v1", "http://127.0.0.1:9?x"])
def test_a_base_url_with_a_query_or_fragment_is_refused(url: str) -> None:
    """Paths are appended to the base URL: after a query or fragment they would never reach the server as paths."""
    with pytest.raises(vozo.InvalidInputError, match="query string or fragment"):
        vozo.Vozo(api_key=API_KEY, base_url=url)


@pytest.mark.parametrize(
    ("url", "instead"),
    [("https://api.vozo.ai/v1", "https://api.vozo.ai"), ("http://127.0.0.1:9/v1/", "http://127.0.0.1:9")],
)
def test_a_base_url_ending_in_the_version_every_path_starts_with_is_refused(url: str, instead: str) -> None:
    """Other APIs' base URLs end in /v1 (https://api.openai.com/v1): here every call went to /v1/v1/... and each
    answered 404 "check the task id"."""
    message = f"base_url must not end in /v1, got '{url}': .* /v1/v1/... and find nothing; use '{instead}'$"
    with pytest.raises(vozo.InvalidInputError, match=message):
        vozo.Vozo(api_key=API_KEY, base_url=url)
    assert vozo.Vozo(api_key=API_KEY, base_url="https://gateway.test/vozo/v1").base_url.endswith("/vozo/v1")


@pytest.mark.parametrize(
    "url", ["https://me:s3cret@api.vozo.ai", "http://s3cret@127.0.0.1:9", "http://me:s3cret@h.test"]
)
def test_a_base_url_with_credentials_is_refused_without_showing_them(url: str) -> None:
    """The bearer key is the only credential sent; a password in the URL would be ignored, and then quoted back."""
    with pytest.raises(vozo.InvalidInputError, match="user name or password") as refused:
        vozo.Vozo(api_key=API_KEY, base_url=url)
    assert "s3cret" not in str(refused.value)


def test_no_repr_shows_the_key() -> None:
    client = vozo.Vozo(api_key=API_KEY, base_url=BASE_URL)
    shown = [
        repr(client),
        repr(client.with_options(max_retries=5)),
        repr(client._options),
        repr(client._http.auth),
        repr(vars(client)),
    ]
    assert not any(API_KEY in text for text in shown)
    assert (
        repr(vozo.AsyncVozo(api_key=API_KEY, base_url=BASE_URL)) == f"AsyncVozo(base_url={BASE_URL!r}, max_retries=2)"
    )


def test_with_options_changes_a_copy_that_shares_the_pool(api, recorder) -> None:
    recorder.default = reply(200, {"status": "pending"})
    copy = api.client.with_options(max_retries=0, timeout=5, base_url="https://other.vozo.test")
    assert (copy.max_retries, copy.timeout.read, copy.base_url) == (0, 5.0, "https://other.vozo.test")
    assert api.client.max_retries == 2
    assert copy._state is api.client._state  # one pool, one request queue, one job governor
    api.call(lambda _: copy.lipsync.get("t1"))
    assert recorder.requests[-1].url.host == "other.vozo.test"
    with pytest.raises(vozo.InvalidInputError):
        api.client.with_options(max_retries=-1)


def test_with_options_on_a_subclass_is_that_subclass_with_its_attributes(api, recorder) -> None:
    """A user's subclass keeps what its __init__ set, on every copy, and each copy sends with its own settings."""
    recorder.default = reply(200, {"status": "pending"})
    base = type(api.client)

    class TenantVozo(base):  # type: ignore[misc, valid-type]
        def __init__(self, tenant: str, **options: Any) -> None:
            super().__init__(**options)
            self.tenant = tenant

        def describe(self) -> str:
            return f"{self.tenant} via {self.base_url}"

    client_class = httpx.Client if api.flavour == "sync" else httpx.AsyncClient
    http_client = client_class(transport=httpx.MockTransport(recorder))
    client = TenantVozo("acme", api_key=API_KEY, base_url=BASE_URL, http_client=http_client)
    copy = client.with_options(base_url="https://other.vozo.test").with_options(max_retries=0)
    assert type(copy) is TenantVozo
    assert (copy.tenant, copy.describe(), copy.max_retries) == ("acme", "acme via https://other.vozo.test", 0)
    assert (client.describe(), client.max_retries) == (f"acme via {BASE_URL}", 2)
    api.call(lambda _: copy.lipsync.get("t1"))
    assert recorder.requests[-1].url.host == "other.vozo.test"
    api.call(lambda _: client.lipsync.get("t1"))
    assert recorder.requests[-1].url.host == "api.vozo.test"


def test_requests_carry_the_key_and_a_user_agent(api, recorder) -> None:
    recorder.default = reply(200, {"status": "pending"})
    api.call(lambda c: c.lipsync.get("task with space%2F"))
    request = recorder.requests[0]
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert request.headers["User-Agent"].startswith("vozo-python/")
    assert request.url.raw_path == b"/v1/video_generation/task%20with%20space%252F"


def test_closing_the_client_closes_its_pool_but_not_a_lent_http_client() -> None:
    lent = httpx.Client(transport=httpx.MockTransport(lambda r: reply(200, {"status": "done"})))
    with vozo.Vozo(api_key=API_KEY, base_url=BASE_URL, http_client=lent) as client:
        client.with_options(max_retries=1).close()  # a copy leaves the pool alone
        client.lipsync.get("t")
    assert client._http.is_closed
    assert not lent.is_closed
    own = vozo.Vozo(api_key=API_KEY, base_url=BASE_URL)
    own.close()
    assert own._http.is_closed


BAD_TASK_IDS = {
    "dot": ".",
    "dotdot": "..",
    "empty": "",
    "blank": "  ",
    "slash": "a/b",
    "up": "../v1",
    "query": "t?x=1",
    "fragment": "t#frag",
    "newline": "t\nx",
    "nul": "t\x00x",
    "del": "t\x7fx",
    "over-1kb": "t" * 1025,
    "over-1kb-utf8": "é" * 513,
    "lone-surrogate": "t\ud800",  # what JSON's "\ud800" decodes to: no UTF-8, so no URL
}


@pytest.mark.parametrize("task_id", BAD_TASK_IDS.values(), ids=BAD_TASK_IDS.keys())
def test_a_task_id_that_could_name_another_path_is_refused_before_any_request(api, recorder, task_id: str) -> None:
    recorder.default = reply(200, {"status": "pending"})
    for call in (
        lambda c: c.lipsync.get(task_id),
        lambda c: c.lipsync.wait(task_id, timeout=1),
        lambda c: c.translations.get(task_id),
        lambda c: c.reusable_lipsync.get(task_id),
    ):
        api.raises(vozo.InvalidInputError, call)
    assert recorder.requests == []


def test_a_task_id_of_1_kb_is_sent(api, recorder) -> None:
    recorder.default = reply(200, {"status": "pending"})
    api.call(lambda c: c.lipsync.get("t" * 1024))
    assert len(recorder.requests) == 1


@pytest.mark.parametrize(
    "timeout",
    [
        *(0, -1, -0.5, float("nan"), float("inf"), httpx.Timeout(5, read=-1), "5", True),
        *(1e10, httpx.Timeout(5, read=1e20)),  # past what a socket timeout holds (2**63 ns): OverflowError in a call
    ],
)
def test_a_timeout_that_is_not_a_positive_number_is_refused(timeout: object) -> None:
    with pytest.raises(vozo.InvalidInputError, match="timeout"):
        vozo.Vozo(api_key=API_KEY, base_url=BASE_URL, timeout=timeout)  # type: ignore[arg-type]
    with pytest.raises(vozo.InvalidInputError, match="timeout"):
        vozo.AsyncVozo(api_key=API_KEY, base_url=BASE_URL, timeout=timeout)  # type: ignore[arg-type]
    with vozo.Vozo(api_key=API_KEY, base_url=BASE_URL) as client, pytest.raises(vozo.InvalidInputError):
        client.with_options(timeout=timeout)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("max_retries", True),
        ("max_retries", 2.0),
        ("max_retries", "2"),
        ("max_active_jobs", True),
        ("max_active_jobs", 0),
        ("max_active_jobs", 1.5),
        ("max_active_jobs", "3"),
    ],
)
def test_a_count_that_is_not_a_whole_number_is_refused(setting: str, value: object) -> None:
    """Not a bare TypeError from comparing "3" with 1, nor True taken as 1 or 1.5 as a limit."""
    for client_class in (vozo.Vozo, vozo.AsyncVozo):
        with pytest.raises(vozo.InvalidInputError, match=f"^{setting} must be a whole number"):
            client_class(api_key=API_KEY, base_url=BASE_URL, **{setting: value})
    if setting == "max_retries":
        with vozo.Vozo(api_key=API_KEY, base_url=BASE_URL) as client, pytest.raises(vozo.InvalidInputError):
            client.with_options(max_retries=value)  # type: ignore[arg-type]


def test_a_timeout_of_a_year_is_accepted() -> None:
    with vozo.Vozo(api_key=API_KEY, base_url=BASE_URL, timeout=365 * 24 * 3600) as client:
        assert client.timeout.read == 365 * 24 * 3600


def test_a_timeout_of_none_per_phase_means_no_limit_for_that_phase() -> None:
    with vozo.Vozo(api_key=API_KEY, base_url=BASE_URL, timeout=httpx.Timeout(5, read=None)) as client:
        assert (client.timeout.connect, client.timeout.read) == (5, None)


@pytest.mark.parametrize(
    "url",
    [
        "https://user:s3cret@api.vozo.test:99999",  # refused as unreadable before its userinfo is looked at
        "ftp://user:s3cret@api.vozo.test/",
        "https://api.vozo.test/?api_key=s3cret",
        "http://evil.test/v1?token=s3cret",
        "http://me:s3cret@evil.test",
    ],
)
def test_no_refusal_of_a_base_url_quotes_its_password_or_query(url: str) -> None:
    with pytest.raises(vozo.InvalidInputError) as refused:
        vozo.Vozo(api_key=API_KEY, base_url=url)
    assert "s3cret" not in str(refused.value)


@pytest.mark.parametrize(
    "url",
    [
        "sk-live-0123456789abcdef",  # the key pasted into the wrong setting
        "http://evil.test/sk-live-0123456789abcdef",
        "https://api.vozo.test/sk-live-0123456789abcdef x",  # unreadable: a space inside
        "https://api.vozo.test:99999/sk-live-0123456789abcdef",
    ],
)
def test_no_refusal_of_a_base_url_quotes_the_api_key(url: str) -> None:
    key = "sk-live-0123456789abcdef"
    with pytest.raises(vozo.InvalidInputError) as refused:
        vozo.Vozo(api_key=key, base_url=url)
    assert key not in str(refused.value)
    with (
        vozo.Vozo(api_key=key, base_url="https://api.vozo.test") as client,
        pytest.raises(vozo.InvalidInputError) as again,
    ):
        client.with_options(base_url=url)
    assert key not in str(again.value)
