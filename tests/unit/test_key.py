"""The API key: refused early when it cannot travel in a header, never shown, never sent off this machine in clear."""

from __future__ import annotations

import asyncio
import json
import pickle
import traceback
from urllib.parse import quote, quote_plus

import httpx
import pytest

import vozo
from vozo._config import hide_in_json, secret_hider

from .conftest import API_KEY, BASE_URL, reply

SECRET_PART = "0123456789-SECRET"  # the part of API_KEY no message may show


@pytest.mark.parametrize(
    "key",
    [
        f"{API_KEY}\nX-Injected: 1",
        f"vz-\x00{SECRET_PART}",
        f"vz-\t{SECRET_PART}",
        f"vz-\x7f{SECRET_PART}",
        f"vz-é{SECRET_PART}",
        f"vz-\u2028{SECRET_PART}",
    ],
)
@pytest.mark.parametrize("client_class", [vozo.Vozo, vozo.AsyncVozo])
def test_a_key_that_cannot_go_in_a_header_is_refused_without_showing_it(client_class: type, key: str) -> None:
    with pytest.raises(vozo.InvalidInputError, match="API key holds a") as info:
        client_class(api_key=key, base_url=BASE_URL)
    assert SECRET_PART not in str(info.value)
    assert SECRET_PART not in repr(info.value)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        # The header's scheme copied with the key from a curl example: "Bearer Bearer ..." would be a 401 for ever.
        (f"Bearer vz-{SECRET_PART}", "without 'Bearer ' in front of it"),
        (f"  bearer   vz-{SECRET_PART}", "without 'Bearer ' in front of it"),
        (f"vz-{SECRET_PART}".encode(), "api_key must be a string, got bytes"),  # was "No API key"
    ],
)
@pytest.mark.parametrize("client_class", [vozo.Vozo, vozo.AsyncVozo])
def test_a_key_given_in_another_form_says_which(client_class: type, key: object, message: str) -> None:
    with pytest.raises(vozo.InvalidInputError, match=message) as info:
        client_class(api_key=key, base_url=BASE_URL)
    assert SECRET_PART not in str(info.value)


@pytest.mark.parametrize(
    ("client_class", "lent", "message"),
    [
        (vozo.Vozo, httpx.AsyncClient, "http_client must be an httpx.Client, got AsyncClient"),
        (vozo.AsyncVozo, httpx.Client, "http_client must be an httpx.AsyncClient, got Client"),
        (vozo.Vozo, httpx.MockTransport, "http_client must be an httpx.Client, got MockTransport"),
    ],
)
def test_an_http_client_of_the_other_kind_is_refused_before_the_first_call(
    client_class: type, lent: type, message: str
) -> None:
    """It was taken, and the first call failed inside httpx with AttributeError: 'coroutine' has no 'stream'."""
    http_client = lent(lambda request: httpx.Response(200)) if lent is httpx.MockTransport else lent()
    with pytest.raises(vozo.InvalidInputError, match=message):
        client_class(api_key=API_KEY, base_url=BASE_URL, http_client=http_client)


@pytest.mark.parametrize("flavour", ["sync", "asyncio"])
def test_a_closed_http_client_is_refused_at_construction_and_at_a_call(flavour: str) -> None:
    """A lent client closed before (a `with httpx.Client()` block left) or after the Vozo was made failed at the
    first call with httpx's bare RuntimeError ("Cannot send a request, as the client has been closed")."""
    calls: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda request: calls.append(request) or reply(200, {"status": "done"}))
    if flavour == "sync":
        closed = httpx.Client(transport=transport)
        closed.close()
        with pytest.raises(vozo.InvalidInputError, match="http_client was closed"):
            vozo.Vozo(api_key=API_KEY, base_url=BASE_URL, http_client=closed)
        lent = httpx.Client(transport=transport)
        client = vozo.Vozo(api_key=API_KEY, base_url=BASE_URL, http_client=lent)
        lent.close()
        with pytest.raises(vozo.InvalidInputError, match="http_client was closed"):
            client.lipsync.get("t")
        with pytest.raises(vozo.InvalidInputError, match="http_client was closed"):
            client.download("https://cdn.test/o.mp4", "o.mp4")
    else:

        async def main() -> None:
            closed = httpx.AsyncClient(transport=transport)
            await closed.aclose()
            with pytest.raises(vozo.InvalidInputError, match="http_client was closed"):
                vozo.AsyncVozo(api_key=API_KEY, base_url=BASE_URL, http_client=closed)
            lent = httpx.AsyncClient(transport=transport)
            client = vozo.AsyncVozo(api_key=API_KEY, base_url=BASE_URL, http_client=lent)
            await lent.aclose()
            with pytest.raises(vozo.InvalidInputError, match="http_client was closed"):
                await client.lipsync.get("t")

        asyncio.run(main())
    assert calls == []


def test_a_bad_key_in_the_environment_is_refused_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOZO_API_KEY", f"vz-{SECRET_PART}\nmore")
    with pytest.raises(vozo.InvalidInputError, match="control character") as info:
        vozo.Vozo(base_url=BASE_URL)
    assert SECRET_PART not in str(info.value)


@pytest.mark.parametrize("key", ["", "   ", None, f"vz-\n{SECRET_PART}", f"vz-ü{SECRET_PART}", 42])
def test_with_options_checks_a_new_key_as_the_constructor_does(api, recorder, key: object) -> None:
    recorder.default = reply(200, {"status": "pending"})
    with pytest.raises(vozo.VozoError) as info:
        api.client.with_options(api_key=key)
    assert SECRET_PART not in str(info.value)
    assert recorder.requests == []  # nothing went out with "Bearer None" or a broken header


def test_with_options_sends_the_new_key(api, recorder) -> None:
    recorder.default = reply(200, {"status": "pending"})
    api.call(lambda c: c.with_options(api_key="  other-key  ").lipsync.get("t1"))
    assert recorder.requests[-1].headers["Authorization"] == "Bearer other-key"


def _raised(api, fn) -> vozo.VozoError:
    with pytest.raises(vozo.VozoError) as info:
        api.call(fn)
    return info.value


def _shown(error: vozo.VozoError) -> str:
    return " ".join([str(error), repr(error), repr(error.args), repr(vars(error))])


@pytest.mark.parametrize(
    "body",
    [
        {"code": "1302", "message": f"invalid api key {API_KEY}"},
        {"code": "1302", "message": "bad key", "serverTs": f"{API_KEY}"},
        {"error": f"no such key: {API_KEY}"},  # not Vozo's shape: kept as an excerpt
    ],
)
def test_an_error_body_that_echoes_the_key_is_redacted(api, recorder, body: dict[str, str]) -> None:
    recorder.default = reply(401, body)
    error = _raised(api, lambda c: c.lipsync.get("t1"))
    assert isinstance(error, vozo.AuthenticationError)
    assert SECRET_PART not in _shown(error)
    assert "****" in _shown(error)


def test_an_html_page_or_a_success_that_is_not_json_echoing_the_key_is_redacted(api, recorder) -> None:
    recorder.replies = [
        reply(502, raw=f"<html>upstream refused Authorization: Bearer {API_KEY}</html>".encode()),
        reply(200, raw=f"oops {API_KEY}".encode(), headers={"Content-Type": "text/plain"}),
    ]
    bad_gateway = _raised(api, lambda c: c.with_options(max_retries=0).lipsync.get("t1"))
    not_json = _raised(api, lambda c: c.with_options(max_retries=0).lipsync.get("t1"))
    assert isinstance(bad_gateway, vozo.InternalServerError)
    assert isinstance(not_json, vozo.APIResponseValidationError)
    for error in (bad_gateway, not_json):
        assert SECRET_PART not in _shown(error)
        assert "****" in (error.body_excerpt or "")


def test_a_key_echoed_with_json_escapes_is_redacted_too(api, recorder) -> None:
    key = 'vz/key"with\\odd-SECRET'
    client = api.make(api_key=key)
    vozo_shape = json.dumps({"code": "1302", "message": f"bad {key}"}).replace("/", "\\/")
    other_shape = json.dumps({"detail": f"bad {key}"}).replace("/", "\\/")
    recorder.replies = [reply(401, raw=vozo_shape.encode()), reply(401, raw=other_shape.encode())]
    errors = [_raised(api, lambda _: client.lipsync.get("t1")) for _ in range(2)]
    assert errors[0].message == "bad ****"  # parsed from Vozo's Error shape
    assert errors[1].body_excerpt == '{"detail": "bad ****"}'  # kept raw, as an excerpt
    for error in errors:
        assert "SECRET" not in _shown(error)


@pytest.mark.parametrize(
    "url",
    [
        "http://evil.localhost",
        "http://api.localhost:8000",
        "http://localhost.example.com",
        "http://127.0.0.1.nip.io",
        "http://[::ffff:10.0.0.1]",
        # names and spellings that may reach this machine but are not certain to (a resolver or proxy decides)
        "http://localhost.",
        "http://127.1:8000",
        "http://0x7f000001",
        "http://2130706433",
        "http://0.0.0.0:8000",
        "http://[::ffff:127.0.0.1]",
    ],
)
def test_plain_http_to_a_name_that_is_not_this_machine_is_refused(url: str) -> None:
    with pytest.raises(vozo.InvalidInputError, match="in clear"):
        vozo.Vozo(api_key=API_KEY, base_url=url)
    client = vozo.Vozo(api_key=API_KEY, base_url=BASE_URL)
    with pytest.raises(vozo.InvalidInputError, match="in clear"):
        client.with_options(base_url=url)


@pytest.mark.parametrize("url", ["http://LOCALHOST:8000", "http://127.0.0.2", "http://[::1]:4010"])
def test_localhost_and_loopback_addresses_are_this_machine(url: str) -> None:
    vozo.Vozo(api_key=API_KEY, base_url=url).close()


@pytest.mark.parametrize("proxy", ["http://proxy.vozo.invalid:3128", "https://proxy.vozo.invalid:3128"])
def test_a_lent_client_with_a_proxy_elsewhere_never_carries_the_key_in_clear(api, proxy: str) -> None:
    options = {"api_key": API_KEY, "base_url": "http://localhost:8000"}
    if api.flavour == "sync":
        client: object = vozo.Vozo(http_client=httpx.Client(proxy=proxy), **options)
    else:
        client = vozo.AsyncVozo(http_client=httpx.AsyncClient(proxy=proxy), **options)
    with pytest.raises(vozo.InvalidInputError, match="in clear"):
        api.call(lambda _: client.lipsync.get("t1"))  # type: ignore[attr-defined]
    with pytest.raises(vozo.InvalidInputError, match="in clear") as refused:  # a create: refused before it left
        api.call(lambda _: client.request("POST", "/v1/video_generation", json={}))  # type: ignore[attr-defined]
    assert "may have created" not in str(refused.value)


def test_a_lent_client_never_lends_its_auth_or_follows_a_redirect(api, recorder) -> None:
    recorder.replies = [reply(302, headers={"Location": "https://elsewhere.test/steal"}), reply(200, {})]
    transport = httpx.MockTransport(recorder)
    options = {"auth": ("user", "password"), "follow_redirects": True, "transport": transport}
    if api.flavour == "sync":
        client: object = vozo.Vozo(api_key=API_KEY, base_url=BASE_URL, http_client=httpx.Client(**options))
    else:
        client = vozo.AsyncVozo(api_key=API_KEY, base_url=BASE_URL, http_client=httpx.AsyncClient(**options))
    with pytest.raises(vozo.APIResponseValidationError, match="302"):
        api.call(lambda _: client.lipsync.get("t1"))  # type: ignore[attr-defined]
    assert [r.url.host for r in recorder.requests] == ["api.vozo.test"]
    assert recorder.requests[0].headers["Authorization"] == f"Bearer {API_KEY}"


def test_a_request_id_header_that_echoes_the_key_is_redacted(api, recorder) -> None:
    recorder.default = reply(401, {"code": "1302", "message": "bad key"}, headers={"X-Request-Id": API_KEY})
    error = _raised(api, lambda c: c.lipsync.get("t1"))
    assert error.request_id == "****"
    assert SECRET_PART not in _shown(error)


@pytest.mark.parametrize("failure", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow")])
def test_a_connection_error_keeps_its_request_but_not_the_key(api, recorder, failure: Exception) -> None:
    recorder.default = failure
    error = _raised(api, lambda c: c.with_options(max_retries=0).lipsync.get("t1"))
    assert isinstance(error, vozo.APIConnectionError)
    assert error.request is not None
    assert error.request.url.path == "/v1/video_generation/t1"
    assert error.request.headers["Authorization"] == "Bearer ****"
    assert SECRET_PART.encode() not in pickle.dumps(error)


@pytest.mark.parametrize(
    "path",
    [
        "https://evil.test/v1/x",
        "//evil.test/v1/x",
        "v1/x",
        "/v1/../x",
        "/v1/%2e%2e/x",
        "/v1/.%2E/x",
        "/v1/x\r\nX-Injected: 1",
        "/v1/x\x00",
        "/v1/\x7f",
    ],
)
def test_request_sends_the_key_only_to_a_clean_path_under_the_base_url(api, recorder, path: str) -> None:
    recorder.default = reply(200, {})
    with pytest.raises(vozo.InvalidInputError, match="path must"):
        api.call(lambda c: c.request("GET", path))
    assert recorder.requests == []


@pytest.mark.parametrize(
    ("answer", "call"),
    [
        ((202, {"note": f"accepted for {API_KEY}"}, None), lambda c: c.lipsync.get("t1")),  # undocumented 2xx
        ((200, {"task_id": f"../{API_KEY}"}, None), lambda c: c.lipsync.create(**CREATE)),  # no usable task id
        ((200, {"task_id": {"for": API_KEY}}, None), lambda c: c.lipsync.create(**CREATE)),
        ((200, {"status": {"for": API_KEY}}, None), lambda c: c.lipsync.get("t1")),  # the models cannot read it
        ((200, {"status": "failed", "err_code": API_KEY, "err_message": f"bad key {API_KEY}"}, None),
         lambda c: c.lipsync.wait("t1")),
    ],
)  # fmt: skip
def test_a_success_body_that_echoes_the_key_is_redacted(api, recorder, answer, call) -> None:
    status, body, raw = answer
    recorder.default = lambda _: reply(status, body, raw=raw)
    error = _raised(api, call)
    # what the error says (a failed job's status, kept as Vozo sent it, is data rather than words)
    told = " ".join([str(error), repr(error), *(str(getattr(error, name, "")) for name in TEXT_FIELDS)])
    assert SECRET_PART not in told
    assert "****" in told


TEXT_FIELDS = ("code", "message", "server_ts", "request_id", "body_excerpt")


@pytest.mark.parametrize(
    ("body", "call"),
    [
        ({"task_id": {"for": API_KEY}}, lambda c: c.lipsync.create(**CREATE)),
        ({"status": {"for": API_KEY}}, lambda c: c.lipsync.get("t1")),
    ],
)
def test_the_traceback_of_a_body_the_models_cannot_read_does_not_show_the_key(api, recorder, body, call) -> None:
    """The error's own message was redacted, but the model's TypeError it is chained to quoted the body as sent, and
    a printed traceback (or a logged one) shows every cause."""
    recorder.default = lambda _: reply(200, body)
    shown = "".join(traceback.format_exception(_raised(api, call)))
    assert SECRET_PART not in shown
    assert "****" in shown


CREATE = {"reference_file_url": "https://m.test/a.mp4", "audio_url": "https://m.test/a.mp3"}


@pytest.mark.parametrize("key", ["k", "x", "test", "sk_1"])
def test_a_short_placeholder_key_is_hidden_where_it_stands_alone_without_garbling_words(key: str) -> None:
    hide = secret_hider(key)
    assert hide(f'{{"task_id": "t1", "export_type": "video", "message": "latest key {key} refused"}}') == (
        '{"task_id": "t1", "export_type": "video", "message": "latest key **** refused"}'
    )
    assert hide(f"Bearer {key}") == "Bearer ****"
    assert hide(f'"{key}"') == '"****"'
    assert hide(f"key={key};") == "key=****;"
    assert hide(f"Bearer%20{key}") == "Bearer%20****"


def test_a_real_key_is_hidden_wherever_it_appears() -> None:
    assert secret_hider(API_KEY)(f"x{API_KEY}y") == "x****y"


@pytest.mark.parametrize("key", ["vz-0123/456+789=SECRET", "vz-01234567 89&SECRET", "k+1"])
def test_a_key_with_symbols_echoed_percent_encoded_is_hidden(key: str) -> None:
    """A proxy or server that quotes the request (a URL, a form) percent-encodes the key's symbols."""
    hide = secret_hider(key)
    for echoed in (quote(key, safe=""), quote(key), quote_plus(key)):
        assert hide(f"got Bearer%20{echoed}!") == "got Bearer%20****!"


def test_a_status_shown_as_json_keeps_its_shape_whatever_the_key_holds() -> None:
    for key in ('"', "{", ":", "k"):
        data = {"task_id": "t1", "status": "failed", "err_message": f"bad key {key}", "result": {"urls": [key]}}
        shown = hide_in_json(data, secret_hider(key))
        assert shown == {**data, "err_message": "bad key ****", "result": {"urls": ["****"]}}
