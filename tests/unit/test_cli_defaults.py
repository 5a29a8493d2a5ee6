"""The `vozo` command repeats none of the client's (or FakeVozo's) defaults: what it does not set, they decide."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

import vozo
import vozo.testing
from vozo._cli import main
from vozo._cli_common import Settings
from vozo._config import DEFAULT_BASE_URL, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT


def _settings(*args: str) -> Settings:
    with main.make_context("vozo", [*args, "status", "some-task"]) as ctx:
        ctx.invoke(main.callback, **ctx.params)  # type: ignore[arg-type]
        settings: Settings = ctx.obj
    return settings


@pytest.mark.parametrize("client_class", [vozo.Vozo, vozo.AsyncVozo])
def test_options_not_given_leave_the_client_its_own_defaults(
    monkeypatch: pytest.MonkeyPatch, client_class: type[Any]
) -> None:
    monkeypatch.setenv("VOZO_API_KEY", "k")
    monkeypatch.delenv("VOZO_BASE_URL", raising=False)
    # Were the CLI to carry a copy of a default, the client's own (changed here) would not apply.
    monkeypatch.setitem(client_class.__init__.__kwdefaults__, "max_retries", DEFAULT_MAX_RETRIES + 3)
    settings = _settings()
    client = settings.client() if client_class is vozo.Vozo else settings.async_client()
    assert client.max_retries == DEFAULT_MAX_RETRIES + 3
    assert client.base_url == DEFAULT_BASE_URL
    assert client.timeout == DEFAULT_TIMEOUT


def test_options_given_are_passed_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOZO_API_KEY", "k")
    with _settings("--max-retries", "0", "--request-timeout", "5", "--base-url", "http://127.0.0.1:9").client() as c:
        assert (c.max_retries, c.timeout.read, c.base_url) == (0, 5.0, "http://127.0.0.1:9")


def test_the_help_shows_the_clients_defaults() -> None:
    shown = " ".join(CliRunner().invoke(main, ["--help"], terminal_width=400).output.split())
    assert f"Retries per request [default: {DEFAULT_MAX_RETRIES}]" in shown
    assert f"[default: {DEFAULT_BASE_URL}]" in shown
    assert f"[default: {DEFAULT_TIMEOUT.read:g} read, {DEFAULT_TIMEOUT.connect:g} connect]" in shown


def test_mock_server_leaves_fakevozo_its_own_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[dict[str, Any]] = []

    class Recorder:
        def __init__(self, **kwargs: Any) -> None:
            made.append(kwargs)
            raise KeyboardInterrupt  # stop before serving

    monkeypatch.setattr(vozo.testing, "FakeVozo", Recorder)
    CliRunner().invoke(main, ["mock-server", "--port", "0"])
    CliRunner().invoke(main, ["mock-server", "--step", "0.5", "--max-active", "3", "--key", "a", "--key", "b"])
    assert made == [{}, {"step_seconds": 0.5, "max_active_jobs": 3, "api_keys": ("a", "b")}]


@pytest.mark.parametrize(
    "args",
    [
        ["--step", "-1"],
        ["--step", "0"],
        ["--step", "inf"],
        ["--step", "nan"],
        ["--max-active", "-1"],
        ["--key", ""],
        ["--key", "two words"],
        ["--key", "ok", "--key", "tab\there"],
    ],
)
def test_mock_server_refuses_settings_no_client_could_meet_in_a_line(
    args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def serve(*_: object) -> None:
        raise AssertionError("served")  # instead of serving until interrupted

    monkeypatch.setattr(vozo.testing.FakeVozo, "serve", serve)
    result = CliRunner().invoke(main, ["mock-server", "--port", "0", *args])
    assert result.exit_code == 2  # a usage error: nothing was served
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "tab\there" not in result.output  # a key is never quoted back
