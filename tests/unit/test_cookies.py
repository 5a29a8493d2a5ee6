"""Cookies a server sets are kept and sent back, as httpx does; an answer without any never reaches the cookie jar."""

from __future__ import annotations

import http.cookiejar

import pytest

from .conftest import Harness, Recorder, reply

PENDING = {"status": "pending"}


def test_an_answer_without_cookies_is_not_handed_to_the_cookie_jar(
    api: Harness, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """httpx hands every answer to the standard library's CookieJar, which first wraps the request in a urllib one and
    the answer's headers in an email message, to find no cookie in an API answer: a tenth of a call's instructions.
    Only an answer that sets a cookie is read for it; the cookie still goes with the calls that follow."""
    ours = api.client._http.cookies.jar
    handed: list[object] = []
    extract = http.cookiejar.CookieJar.extract_cookies

    def counted(jar: http.cookiejar.CookieJar, response: object, request: object) -> None:
        if jar is ours:
            handed.append(response)
        extract(jar, response, request)

    monkeypatch.setattr(http.cookiejar.CookieJar, "extract_cookies", counted)
    recorder.replies = [
        reply(body=PENDING),
        reply(body=PENDING, headers={"Set-Cookie": "lb=node-2; Path=/"}),
        reply(body=PENDING),
    ]
    for _ in range(3):
        assert str(api.call(lambda c: c.lipsync.get("t1")).status) == "pending"
    assert len(handed) == 1
    assert [request.headers.get("cookie") for request in recorder.requests] == [None, None, "lb=node-2"]
