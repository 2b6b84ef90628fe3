"""``dotwise playground``: options, the browser, the loopback warning, missing extras."""

from __future__ import annotations

import socket

import pytest
from typer.testing import CliRunner

import dotwise.cli.playground as cli_playground
from dotwise.cli import get_app

pytest.importorskip("fastapi", reason="the playground needs the web extra: pip install -e '.[web]'")
uvicorn = pytest.importorskip("uvicorn", reason="the playground needs the web extra")


@pytest.fixture
def calls(monkeypatch):
    """Record uvicorn.run and webbrowser.open instead of serving and opening anything."""
    record: dict[str, list] = {"run": [], "open": []}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: record["run"].append((app, kw)))
    import webbrowser

    monkeypatch.setattr(webbrowser, "open", lambda url: record["open"].append(url))

    class ImmediateTimer:
        def __init__(self, delay, fn):
            self.fn = fn

        def start(self):
            self.fn()

    monkeypatch.setattr(cli_playground.threading, "Timer", ImmediateTimer)
    return record


def _flat(text: str) -> str:
    return " ".join(text.split())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_help_teaches_with_an_example():
    result = CliRunner().invoke(get_app(), ["playground", "--help"])
    assert result.exit_code == 0
    for text in ("--port", "--host", "--no-browser", "Example", "dotwise playground"):
        assert text in result.output


def test_serves_on_loopback_and_opens_the_browser(calls):
    port = _free_port()
    result = CliRunner().invoke(get_app(), ["playground", "--port", str(port)])
    assert result.exit_code == 0, result.output
    (app, kwargs), = calls["run"]
    assert kwargs["host"] == "127.0.0.1" and kwargs["port"] == port
    from fastapi.testclient import TestClient

    local = TestClient(app, base_url=f"http://127.0.0.1:{port}")
    assert local.get("/api/limits").status_code == 200
    # DNS rebinding: a foreign Host header is refused on a loopback server
    assert TestClient(app, base_url="http://evil.example").get("/api/limits").status_code == 400
    assert calls["open"] == [f"http://127.0.0.1:{port}"]
    assert f"http://127.0.0.1:{port}" in result.output
    assert "warning" not in result.output


def test_no_browser_keeps_the_browser_closed(calls):
    result = CliRunner().invoke(get_app(), ["playground", "--port", str(_free_port()),
                                            "--no-browser"])
    assert result.exit_code == 0, result.output
    assert len(calls["run"]) == 1 and calls["open"] == []


def test_binding_beyond_loopback_warns(calls):
    result = CliRunner().invoke(get_app(), ["playground", "--host", "0.0.0.0", "--port",
                                            str(_free_port()), "--no-browser"])
    assert result.exit_code == 0, result.output
    assert "warning" in result.output and "0.0.0.0" in result.output
    app, kwargs = calls["run"][0]
    assert kwargs["host"] == "0.0.0.0"
    from fastapi.testclient import TestClient

    assert TestClient(app, base_url="http://my-laptop.lan").get("/").status_code == 200


def test_a_port_in_use_is_a_clear_error(calls):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = CliRunner().invoke(get_app(), ["playground", "--port", str(port), "--no-browser"])
    assert result.exit_code == 2
    assert f"could not listen on 127.0.0.1:{port}" in _flat(result.output)
    assert "pick another --port" in _flat(result.output) and calls["run"] == []


def test_missing_web_extra_names_the_install_command(calls, monkeypatch):
    monkeypatch.setattr(cli_playground, "_missing_web_dependency", lambda: "fastapi")
    result = CliRunner().invoke(get_app(), ["playground", "--no-browser"])
    assert result.exit_code == 2
    assert "needs fastapi" in result.output
    assert 'pip install -e ".[web]"' in _flat(result.output)
    assert calls["run"] == []


def test_bad_port_is_rejected():
    result = CliRunner().invoke(get_app(), ["playground", "--port", "70000"])
    assert result.exit_code == 2 and "--port" in result.output


@pytest.mark.parametrize("host, loop", [("127.0.0.1", True), ("localhost", True), ("::1", True),
                                        ("127.0.0.5", True), ("0.0.0.0", False),
                                        ("192.168.1.2", False), ("example.org", False)])
def test_is_loopback(host, loop):
    assert cli_playground.is_loopback(host) is loop
