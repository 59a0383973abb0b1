"""The web app's API and its safety defaults, without a browser.

Fast tests check the local-only middleware on a tiny ASGI app. The slow ones start the real
app (index built from a copy of sources/ in a temporary folder) on a free 127.0.0.1 port
and check: `gradio_client` gets the same answer object as `rag ask --json`; follow-ups
report what they searched; errors arrive as their message; bad Host / Origin, monitoring,
remote-file fetches and oversized uploads are refused; and no socket of the server process
reaches past the loopback interface while all this runs.
"""

from __future__ import annotations

import ipaddress
import json
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import SEED_SOURCES, run_cli
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from rag.settings import Settings
from ui.security import (
    LOCAL_HOSTS,
    LocalOnly,
    allowed_hosts,
    blocked_path,
    host_name,
    origin_ok,
)

QUESTION = "When did Russia's Supreme Court lift the ban on the Taliban?"


# --- fast: the middleware alone -----------------------------------------------------


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("localhost:7860", "localhost"),
        ("127.0.0.1", "127.0.0.1"),
        ("[::1]:7860", "::1"),
        ("LOCALHOST.", "localhost"),
        ("", None),
        ("[::1", None),
        ("a:b", None),
        ("[::1]x", None),
        ("evil.com:80", "evil.com"),
    ],
)
def test_host_name(header: str, name: str | None) -> None:
    assert host_name(header) == name


def test_allowed_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_ALLOWED_HOSTS", "box.lan, [fe80::1]")
    extra = Settings.load().allowed_hosts.split(",")
    assert allowed_hosts("0.0.0.0", extra) == LOCAL_HOSTS | {"box.lan", "fe80::1"}
    assert allowed_hosts("0.0.0.0") == LOCAL_HOSTS  # the environment is read by Settings only
    assert "10.0.0.5" in allowed_hosts("10.0.0.5")


def test_the_allowed_hosts_setting_reaches_the_app(tmp_path: Path) -> None:
    from ui.app import build_app

    env = {"RAG_ALLOWED_HOSTS": "box.lan"}
    settings = Settings.load(env=env, sources=tmp_path / "sources", index=tmp_path / "index")
    app = build_app(settings)
    assert TestClient(app, base_url="http://box.lan").get("/config").status_code == 200
    assert TestClient(app, base_url="http://other.lan").get("/config").status_code == 400


def test_origin_must_be_this_local_origin() -> None:
    hosts = allowed_hosts()
    assert origin_ok("http://127.0.0.1:7860", "127.0.0.1:7860", hosts)
    assert not origin_ok("http://127.0.0.1:9999", "127.0.0.1:7860", hosts)  # other local app
    assert not origin_ok("http://evil.com", "evil.com", hosts)
    assert not origin_ok("null", "127.0.0.1:7860", hosts)
    assert not origin_ok("file://", "127.0.0.1:7860", hosts)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/monitoring", 404),
        ("/monitoring/summary", 404),
        ("/gradio_api/run-history/buckets", 404),
        ("/gradio_api/vibe-edit", 404),
        ("/gradio_api/proxy=https://x.hf.space/a", 404),
        ("/gradio_api/file=https://example.com/a.png", 403),
        ("/gradio_api/file=https%3A//example.com/a.png", 403),
        ("/gradio_api/file=//example.com/a.png", 403),
        ("/gradio_api/file=/tmp/gradio/x.png", None),
        ("/", None),
        ("/config", None),
    ],
)
def test_blocked_paths(path: str, status: int | None) -> None:
    assert blocked_path(path) == status


def test_middleware_statuses() -> None:
    ok = Route("/{p:path}", lambda r: PlainTextResponse("ok"), methods=["GET", "POST"])
    app = Starlette(routes=[ok])
    client = TestClient(LocalOnly(app, allowed_hosts()), base_url="http://127.0.0.1:7860")
    assert client.get("/").status_code == 200
    assert client.get("/", headers={"host": "localhost:7860"}).status_code == 200
    assert client.get("/", headers={"host": "evil.example"}).status_code == 400
    assert client.post("/x", headers={"origin": "http://127.0.0.1:7860"}).status_code == 200
    assert client.post("/x", headers={"origin": "http://evil.example"}).status_code == 403
    assert client.get("/monitoring").status_code == 404


def test_same_file_matches_renamed_uploads() -> None:
    from ui.library import same_file

    assert same_file("a.txt", "a.txt")
    assert same_file("a-2.txt", "a.txt")
    assert not same_file("a-b.txt", "a.txt")
    assert not same_file("b.txt", "a.txt")


# --- slow: the real app -------------------------------------------------------------


def _local(host: Any) -> bool:
    if host is None or host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(str(host).strip("[]").split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(scope="module")
def outbound() -> Iterator[list[str]]:
    """Every non-loopback host this process resolves or connects to while the module runs."""
    seen: list[str] = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def note(address: Any) -> None:
        if isinstance(address, tuple) and not _local(address[0]):
            seen.append(str(address[0]))

    def connect(self: socket.socket, address: Any) -> Any:
        note(address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> Any:
        note(address)
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _local(host.decode() if isinstance(host, bytes) else host):
            seen.append(str(host))
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect, socket.socket.connect_ex = connect, connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo
    try:
        yield seen
    finally:
        socket.socket.connect, socket.socket.connect_ex = real_connect, real_connect_ex  # type: ignore[method-assign]
        socket.getaddrinfo = real_getaddrinfo


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, outbound: list[str]) -> Iterator[dict]:
    from rag import api
    from rag.settings import Settings
    from ui.app import build_app, run_in_thread

    tmp = tmp_path_factory.mktemp("ui-api")
    shutil.copytree(SEED_SOURCES, tmp / "sources")
    settings = Settings.load(sources=tmp / "sources", index=tmp / "index", progress=False)
    api.index(settings)
    url, stop = run_in_thread(build_app(settings))
    try:
        yield {"url": url, "settings": settings, "tmp": tmp}
    finally:
        stop()


@pytest.fixture(scope="module")
def client(server: dict) -> Any:
    from gradio_client import Client

    return Client(server["url"], verbose=False, analytics_enabled=False, download_files=False)


def _without_timings(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k != "timings_ms"}


@pytest.mark.slow
def test_ask_endpoint_returns_the_cli_answer_object(server: dict, client: Any) -> None:
    result = client.predict(QUESTION, 5, None, api_name="/ask")
    assert not result["abstained"] and "April 17, 2025" in result["answer"]
    assert "[1]" in result["answer"] and result["citations"][0]["n"] == 1
    env = {"RAG_SOURCES": str(server["tmp"] / "sources"), "RAG_INDEX": str(server["tmp"] / "index")}
    cli = run_cli("ask", QUESTION, "--json", "-k", "5", cwd=server["tmp"], env=env, timeout=120)
    assert cli.returncode == 0, cli.stderr
    assert _without_timings(result) == _without_timings(json.loads(cli.stdout))
    assert set(result["timings_ms"]) == {"retrieve", "answer", "total"}


@pytest.mark.slow
def test_citations_point_into_the_documents(server: dict, client: Any) -> None:
    from rag import api

    result = client.predict(
        "Since when has Moscow kept unofficial contacts with the Taliban?", 3, None, api_name="/ask"
    )
    assert len(result["passages"]) >= 3
    for c in result["citations"]:
        doc = api.document(server["settings"], c["doc_id"])
        assert doc is not None and doc["text"][c["start"] : c["end"]] == c["quote"]


@pytest.mark.slow
def test_followups_say_what_was_searched(client: Any) -> None:
    result = client.predict(
        "When was that?",
        5,
        ["Why did Russia's Supreme Court lift the ban on the Taliban?"],
        api_name="/ask",
    )
    assert result["question"] == "When was that?"
    assert result["searched"].startswith("When was that? ") and "Taliban" in result["searched"]
    assert "April 17, 2025" in result["answer"]


@pytest.mark.slow
def test_errors_arrive_as_their_message(client: Any) -> None:
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="The question is empty"):
        client.predict("   ", 5, None, api_name="/ask")
    with pytest.raises(AppError, match="out of range"):
        client.predict(QUESTION, 0, None, api_name="/ask")


@pytest.mark.slow
def test_only_local_requests_are_served(server: dict) -> None:
    url = server["url"]
    with httpx.Client(base_url=url, timeout=30) as http:
        assert http.get("/").status_code == 200
        assert http.get("/", headers={"host": "evil.example"}).status_code == 400
        assert http.get("/config", headers={"origin": "http://evil.example"}).status_code == 403
        assert http.get("/monitoring").status_code == 404
        assert http.get("/gradio_api/file=https://example.com/x.png").status_code == 403
        source = next((server["tmp"] / "sources").glob("*.txt"))
        for private in (source, server["tmp"] / "index" / "manifest.json", Path("/etc/passwd")):
            assert http.get(f"/gradio_api/file={private}").status_code == 403
        too_big = http.post(
            "/gradio_api/upload",
            files={"files": ("big.txt", b"x" * (21 * 1024 * 1024), "text/plain")},
        )
        assert too_big.status_code == 413
        page = http.get("/").text
        assert "fonts.googleapis" not in page and "fonts.gstatic" not in page


@pytest.mark.slow
def test_nothing_left_the_machine(server: dict, client: Any, outbound: list[str]) -> None:
    client.predict("Who won the 2022 FIFA World Cup?", 5, None, api_name="/ask")
    assert outbound == [], f"connections beyond loopback: {sorted(set(outbound))}"
