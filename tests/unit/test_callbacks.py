from __future__ import annotations

import json

import pytest

from vozo import InvalidInputError, callbacks
from vozo.types import LipsyncJobStatus, LipsyncStatus, TranslationJobStatus


def test_a_lipsync_callback_parses_to_the_typed_status() -> None:
    body = json.dumps({"status": "done", "video_url": "https://cdn.test/v.mp4", "extra": 1}).encode()
    status = callbacks.parse(body, {"Content-Type": "application/json; charset=utf-8"})
    assert isinstance(status, LipsyncJobStatus)
    assert status.status is LipsyncStatus.DONE
    assert status.additional_properties == {"extra": 1}


@pytest.mark.parametrize(
    "body",
    [
        {"status": "dubbing"},
        {"status": "failed", "err_code": "10001"},
        {"status": "done", "result": {"video_url": "https://x/v.mp4"}},
    ],
)
def test_translation_callbacks_are_recognised(body) -> None:
    assert isinstance(callbacks.parse(json.dumps(body)), TranslationJobStatus)


@pytest.mark.parametrize("body", [{"status": "done"}, {"status": "failed"}, {"status": "done", "note": "x"}])
def test_a_body_several_kinds_statuses_fit_alike_asks_for_the_kind_instead_of_guessing(body) -> None:
    """A bare failure of a translation came back as a lipsync status (the first kind listed), which reads no error
    fields: the caller is told to say which kind the callback URL belongs to."""
    with pytest.raises(
        callbacks.CallbackError, match=r"fits the status of several job kinds \(lipsync, translations\)"
    ):
        callbacks.parse(body)
    assert isinstance(callbacks.parse(body, kind="translations"), TranslationJobStatus)
    assert isinstance(callbacks.parse(body, kind="lipsync"), LipsyncJobStatus)


@pytest.mark.parametrize("kind", [5, b"lipsync", ["lipsync"]], ids=repr)
def test_a_kind_that_is_no_name_is_a_callback_error(kind) -> None:
    """parse(body, kind=5) raised a bare AttributeError ('int' object has no attribute 'strip')."""
    with pytest.raises(callbacks.CallbackError, match=r"kind must be a job kind's name .*lipsync"):
        callbacks.parse(b'{"status": "done"}', kind=kind)


def test_the_kind_can_be_given() -> None:
    assert isinstance(callbacks.parse({"status": "done"}, kind="translation"), TranslationJobStatus)
    assert isinstance(callbacks.parse({"status": "brand_new"}, kind="lipsync"), LipsyncJobStatus)


@pytest.mark.parametrize(
    "body",
    [
        b'\xef\xbb\xbf{"status": "done"}',  # UTF-8 with a byte order mark, as some servers send it
        '\ufeff{"status": "done"}',  # the same bytes as a framework decodes them (UTF-8 keeps the mark)
        bytearray(b'{"status": "done"}'),
        '{"status": "done", "err_message": "caf\u00e9"}'.encode("utf-16"),  # JSON's other encodings, with their BOM
    ],
)
def test_a_body_is_read_in_every_form_a_web_framework_hands_it(body) -> None:
    assert callbacks.parse(body, {"Content-Type": "application/json"}, kind="lipsync").status is LipsyncStatus.DONE


@pytest.mark.parametrize(
    ("body", "headers", "message"),
    [
        (b"not json", None, "not JSON"),
        (b"[1, 2]", None, "must be a JSON object"),
        (b"{}", None, "no string 'status'"),
        (b'{"status": 3}', None, "no string 'status'"),
        (b'{"status": "done"}', {"content-type": "text/plain"}, "expected JSON"),
        (None, None, "callback body must be bytes, str or a mapping, got NoneType"),  # a framework gave no body
        (memoryview(b'{"status": "done"}'), None, "callback body must be bytes, str or a mapping, got memoryview"),
        (b'{"status": "done"}', [(b"content-type", b"application/json")], "headers must be a mapping"),  # ASGI's raw
        (b'{"status": "done"}', {b"content-type": b"text/html"}, "expected JSON"),  # bytes, as some servers keep them
        (b'{"status": "done"}', {"content-type": 5}, "header values must be text or bytes, got int"),
        (b'{"status": "done"}', {None: "application/json"}, "header names must be text or bytes, got NoneType"),
        # A lone surrogate names no character: the status it would give cannot be written as UTF-8 anywhere
        (b'{"status": "failed", "err_code": "\\ud800"}', None, "lone surrogate"),
        ('{"status": "failed", "err_code": "\ud800"}', None, "lone surrogate"),  # a framework's surrogateescape
        ({"status": "failed", "err_code": "\udcff"}, None, "lone surrogate"),  # a framework's json.loads
    ],
)
def test_bad_callback_bodies_are_refused_clearly(body, headers, message) -> None:
    with pytest.raises(callbacks.CallbackError, match=message):
        callbacks.parse(body, headers)


def test_a_token_added_to_the_callback_url_verifies_and_keeps_the_secret_out() -> None:
    url = callbacks.add_token("https://hooks.test/vozo?job=42", "s3cret")
    assert "s3cret" not in url
    assert url.startswith("https://hooks.test/vozo?job=42&vozo_token=")
    assert callbacks.verify_token(url, "s3cret")
    assert callbacks.add_token(url, "s3cret") == url  # idempotent


@pytest.mark.parametrize(
    "tamper",
    [
        lambda u: u.replace("job=42", "job=43"),
        lambda u: u[:-1] + ("0" if u[-1] != "0" else "1"),
        lambda u: u.split("&vozo_token")[0],
        lambda u: u + "&vozo_token=abc",
    ],
)
def test_a_tampered_or_missing_token_fails(tamper) -> None:
    url = callbacks.add_token("https://hooks.test/vozo?job=42", "s3cret")
    assert not callbacks.verify_token(tamper(url), "s3cret")
    assert not callbacks.verify_token(url, "other")


def test_verify_behind_a_proxy_with_the_expected_url() -> None:
    given = callbacks.add_token("https://hooks.example.com/vozo", b"k")
    received = given.replace("https://hooks.example.com", "http://10.0.0.3:8080")
    assert not callbacks.verify_token(received, b"k")
    assert callbacks.verify_token(received, b"k", expected_url="https://hooks.example.com/vozo")


@pytest.mark.parametrize(
    "received",
    [
        "http://[::1/vozo?vozo_token=abc",
        "https://hooks.test:99999/vozo?vozo_token=a",
        "https://hooks.test/vozo?vozo_token=\udcff",  # a lone surrogate (surrogateescape): no UTF-8 to compare
        "https://hooks.test/v\ud800zo?vozo_token=abc",
    ],
)
def test_a_received_url_no_parser_can_read_is_not_verified_rather_than_an_error(received: str) -> None:
    """Whoever calls the endpoint writes the URL: a ValueError there was a 500 for the receiving app."""
    assert callbacks.verify_token(received, "s3cret") is False


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: callbacks.verify_token(b"https://hooks.test/vozo?vozo_token=a", "k"), "received_url .* got bytes"),
        (lambda: callbacks.verify_token("https://hooks.test/vozo", "k", expected_url="http://[::1/x"), "expected_url"),
        (lambda: callbacks.add_token("http://[::1/vozo", "k"), "callback_url must be a URL string"),
        (lambda: callbacks.add_token(None, "k"), "callback_url must be a URL string .*got NoneType"),
        # A URL Vozo could never POST to was signed and handed back, to be refused only by the create
        (lambda: callbacks.add_token("hooks.test/vozo", "k"), r"got 'hooks.test/vozo': not an absolute http\(s\) URL"),
        (lambda: callbacks.add_token("/vozo?order=1", "k"), "callback_url must be a URL string"),
        (lambda: callbacks.add_token("ftp://hooks.test/vozo", "k"), "not an absolute http"),
        (lambda: callbacks.verify_token("https://h.test/v", "k", expected_url="/v"), "expected_url must be a URL"),
        (lambda: callbacks.verify_token("https://h.test/v?vozo_token=a", 42), "secret must be a str or bytes"),
        (lambda: callbacks.add_token("https://h.test/v", "s\ud800"), "secret must be a str or bytes"),
        # a URL no request could carry: signed, it raised a bare UnicodeEncodeError; a newline was silently dropped
        (lambda: callbacks.add_token("https://h.test/v\ud800", "k"), "callback_url .*lone surrogate"),
        (lambda: callbacks.add_token("https://h.test/v?order=1\n", "k"), "callback_url .*control character"),
        (lambda: callbacks.add_token("https://h.test/v?order=\x01", "k"), "callback_url .*control character"),
        (lambda: callbacks.verify_token("https://h.test/v", "k", expected_url="https://h.test/\udcff"), "expected_url"),
    ],
)
def test_what_the_caller_passes_wrongly_is_an_invalid_input_error(call, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        call()


def test_an_empty_secret_is_refused() -> None:
    for call in (
        lambda: callbacks.add_token("https://hooks.test/x", ""),
        lambda: callbacks.verify_token("https://hooks.test/x?vozo_token=a", b""),
    ):
        with pytest.raises(InvalidInputError, match="must not be empty"):
            call()


@pytest.mark.parametrize("url", ["https://hooks.test/vozo#done", "https://hooks.test/vozo?job=42#a?b=c&d"])
def test_the_token_goes_before_a_fragment_and_verifies_as_the_server_receives_it(url) -> None:
    given = callbacks.add_token(url, "s3cret")
    base, fragment = url.split("#", 1)
    assert given.startswith(base)
    assert given.endswith(f"#{fragment}")
    assert "vozo_token=" in given.split("#", 1)[0]
    assert callbacks.verify_token(given.split("#", 1)[0], "s3cret")  # a fragment never reaches the server
    assert callbacks.verify_token(given, "s3cret")
    assert callbacks.add_token(given, "s3cret") == given


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"status": "done", "result": ' + b'{"a": ' * 100_000 + b"1" + b"}" * 100_000 + b"}",
        b'{"status": "done", "extra": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    ],
    ids=["array", "result", "extra"],
)
def test_deeply_nested_bodies_are_refused_clearly(body) -> None:
    with pytest.raises(callbacks.CallbackError, match="nested too deeply"):
        callbacks.parse(body)


@pytest.mark.parametrize("status", [None, 3, ["done"], {"done": True}, True])
def test_a_status_of_the_wrong_type_is_refused_clearly(status) -> None:
    with pytest.raises(callbacks.CallbackError, match="no string 'status'"):
        callbacks.parse({"status": status})
