"""The web app's defences that tests/test_ui_api.py and tests/test_ui_browser.py do not cover.

Already covered there (see docs/RELIABILITY.md): Host evil.example -> 400, a cross-origin
GET -> 403, /monitoring -> 404, remote and private `file=` paths -> 403, a 21 MB upload ->
413, XSS in article text, titles and publishers rendered inert, no request leaving 127.0.0.1.

Here, against one real app per module (real model, sources copied into tmp plus an article
whose *file name* is an XSS payload): cross-origin POSTs and `Origin: null`, look-alike Host
names, `file=` path tricks, analytics off, a 100 KB question and k = 10^6 refused with a clear
message (through gradio_client and through `rag.api.answer`), and a browser visit to the
library and the source view of the hostile file name: no dialog, no script, no request
beyond 127.0.0.1.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from helpers import SEED_SOURCES

pytestmark = pytest.mark.slow
XSS_NAME = "\"'><img src=x onerror=\"window.__pwned=7;alert('name')\"> Wrenfield.md"
XSS_ARTICLE = """# Wrenfield library reopens

The Wrenfield public library reopened on 12 March 2025 after a flood closed it for a year.

The head librarian, Tamsin Okafor, said 9,000 books had been replaced.
"""
QUESTION = "When did the Wrenfield public library reopen?"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    from rag import api
    from rag.settings import Settings
    from ui.app import build_app, run_in_thread

    tmp = tmp_path_factory.mktemp("web-security")
    shutil.copytree(SEED_SOURCES, tmp / "sources")
    (tmp / "sources" / XSS_NAME).write_text(XSS_ARTICLE)
    settings = Settings.load(sources=tmp / "sources", index=tmp / "index", progress=False)
    api.index(settings)
    app = build_app(settings)
    url, stop = run_in_thread(app)
    try:
        yield {"url": url, "settings": settings, "tmp": tmp, "app": app}
    finally:
        stop()


@pytest.fixture(scope="module")
def http(server: dict) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server["url"], timeout=30) as client:
        yield client


def test_cross_origin_posts_are_refused(server: dict, http: httpx.Client) -> None:
    port = server["url"].rstrip("/").rsplit(":", 1)[1]
    body = {"data": ["hi", 5, None], "fn_index": 0, "session_hash": "x1"}
    for origin in ("http://evil.example", "null", f"http://localhost:{int(port) + 1}"):
        r = http.post("/gradio_api/queue/join", json=body, headers={"origin": origin})
        assert r.status_code == 403, (origin, r.status_code)
    r = http.post(
        "/gradio_api/upload",
        files={"files": ("a.txt", b"hello", "text/plain")},
        headers={"origin": "http://evil.example"},
    )
    assert r.status_code == 403
    same = http.post(
        "/gradio_api/upload",
        files={"files": ("a.txt", b"hello", "text/plain")},
        headers={"origin": server["url"].rstrip("/")},
    )
    assert same.status_code == 200  # the page's own origin is served


@pytest.mark.parametrize(
    "host",
    ["evil.example", "127.0.0.1.evil.example", "localhost.evil.example", "evil.example:80",
     "[::2]", "0.0.0.0", "127.0.0.2"],
)  # fmt: skip
def test_only_local_host_names(http: httpx.Client, host: str) -> None:
    assert http.get("/", headers={"host": host}).status_code == 400
    assert http.get("/config", headers={"host": host}).status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        "/gradio_api/file=/etc/passwd",
        "/gradio_api/file=%2Fetc%2Fpasswd",
        "/gradio_api/file=../../../../etc/passwd",
        "/gradio_api/file=/proc/self/environ",
        "/file=/etc/passwd",
        "/gradio_api/file=file:///etc/passwd",
        "/static/../../../../etc/passwd",
        "/gradio_api/file=/etc/../etc/passwd",
    ],
)
def test_no_file_outside_the_app_folders(http: httpx.Client, path: str) -> None:
    r = http.get(path)
    assert r.status_code in (400, 403, 404), (path, r.status_code)
    assert "root:" not in r.text


def test_app_folders_are_not_served(server: dict, http: httpx.Client) -> None:
    for private in (
        server["tmp"] / "sources" / XSS_NAME,
        *sorted((server["tmp"] / "index").glob("gen-*/*")),
    ):
        assert http.get(f"/gradio_api/file={private}").status_code == 403, private


def test_analytics_and_monitoring_are_off(server: dict, http: httpx.Client) -> None:
    import os

    assert os.environ.get("GRADIO_ANALYTICS_ENABLED") == "False"
    config = http.get("/config").json()
    assert config.get("analytics_enabled") is False
    for path in ("/monitoring", "/gradio_api/monitoring", "/monitoring/summary"):
        assert http.get(path).status_code == 404


def test_oversized_question_and_k_are_clear_errors(server: dict) -> None:
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    from rag import api
    from rag.errors import QuestionError

    client = Client(server["url"], verbose=False, analytics_enabled=False, download_files=False)
    huge = "Why? " * 20_000  # 100 KB
    with pytest.raises(AppError, match=r"characters long; the limit is 2,000"):
        client.predict(huge, 5, None, api_name="/ask")
    with pytest.raises(AppError, match=r"k = 1000000 is out of range"):
        client.predict(QUESTION, 10**6, None, api_name="/ask")
    with pytest.raises(QuestionError, match="the limit is 2,000"):
        api.answer(huge, server["settings"])
    with pytest.raises(QuestionError, match="out of range"):
        api.answer(QUESTION, server["settings"], k=10**6)
    ok = client.predict(QUESTION, 5, None, api_name="/ask")  # and the app still answers
    assert "12 March 2025" in ok["answer"]
    assert ok["citations"][0]["doc_id"] == XSS_NAME


def test_hostile_file_name_is_inert_in_the_browser(server: dict) -> None:
    from playwright.sync_api import sync_playwright
    from test_ui_browser import CHROMIUM, CHROMIUM_ARGS, Tab, ask

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            tab = Tab.open(page, server["url"])
            bubble = ask(page, QUESTION)
            assert "12 March 2025" in bubble.inner_text()
            bubble.locator(".rag-cite").first.click()
            page.wait_for_selector("#rag-article mark.rag-quote")
            assert "Tamsin Okafor" in page.inner_text("#rag-article")
            page.get_by_role("tab", name="Library").click()
            page.wait_for_selector("#rag-library table")
            assert "<img src=x onerror=" in page.inner_text("#rag-library")
            time.sleep(0.5)  # give any injected handler the chance to run
            assert page.evaluate("window.__pwned") is None
            parts = "#rag-chat, #rag-sources, #rag-article, #rag-library"
            images = page.eval_on_selector_all(f":is({parts}) img", "e => e.length")
            assert images == 0
            tab.assert_offline("hostile file name")
        finally:
            browser.close()


SECRET = "The vault code is 4417-alpha. This file was never uploaded."


def _upload_event(config: dict) -> tuple[int, int]:
    """(fn_index, component id) of the Library tab's upload event."""
    upload_id = next(
        c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == "rag-upload"
    )
    for i, dep in enumerate(config["dependencies"]):
        if [upload_id, "upload"] in [list(t) for t in dep.get("targets", [])]:
            return dep.get("id", i), upload_id
    raise AssertionError("no upload event found")


@pytest.fixture
def planted(server: dict) -> Iterator[dict[str, Path]]:
    """A private file outside Gradio's upload folder, and a symlink to it inside that folder
    named like an article (as a local process could plant one)."""
    import tempfile

    from gradio.utils import get_upload_folder

    secret = server["tmp"] / "secret.txt"
    secret.write_text(SECRET)
    root = Path(get_upload_folder())
    root.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=root))
    link = folder / "innocent.txt"
    link.symlink_to(secret)
    try:
        yield {"secret": secret, "link": link}
    finally:
        shutil.rmtree(folder)


def _nothing_got_in(server: dict, http: httpx.Client) -> None:
    sources = server["tmp"] / "sources"
    assert not {"secret.txt", "innocent.txt"} & {p.name for p in sources.iterdir()}
    assert SECRET not in "".join(p.read_text(errors="ignore") for p in sources.glob("*.txt"))
    from rag import api

    docs = api.documents(server["settings"])
    assert not {"secret.txt", "innocent.txt"} & {d["source"] for d in docs}


def _file(path: Path) -> dict:
    return {"path": str(path), "meta": {"_type": "gradio.FileData"}}


@pytest.mark.parametrize("which", ["secret", "link"])
def test_the_upload_event_takes_no_file_it_did_not_receive_raw_http(
    server: dict, http: httpx.Client, planted: dict[str, Path], which: str
) -> None:
    import json
    import uuid

    fn_index, upload_id = _upload_event(http.get("/config").json())
    session = uuid.uuid4().hex[:10]
    body = {
        "data": [[_file(planted[which])], ""],
        "fn_index": fn_index,
        "trigger_id": upload_id,
        "session_hash": session,
        "event_data": None,
    }
    r = http.post("/gradio_api/queue/join", json=body)  # a local process: no Origin header
    assert r.status_code == 200, r.text
    completed = None
    with http.stream("GET", "/gradio_api/queue/data", params={"session_hash": session}) as events:
        for line in events.iter_lines():
            if line.startswith("data:"):
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    completed = message
                    break
    assert completed is not None and completed["success"] is False, completed
    assert "not uploaded by a user" in json.dumps(completed)
    _nothing_got_in(server, http)


@pytest.mark.parametrize("which", ["secret", "link"])
def test_the_upload_event_takes_no_file_it_did_not_receive_gradio_client(
    server: dict, http: httpx.Client, planted: dict[str, Path], which: str
) -> None:
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    client = Client(server["url"], verbose=False, analytics_enabled=False, download_files=False)
    fn_index, _ = _upload_event(client.config)
    endpoint = client.endpoints[fn_index]
    endpoint.is_valid = True  # private to the page; a hostile client calls it anyway
    endpoint._upload_file = lambda f, data_index: f  # send the path itself, upload nothing
    with pytest.raises(AppError, match="not uploaded by a user"):
        client.predict([_file(planted[which])], "", fn_index=fn_index)
    _nothing_got_in(server, http)
