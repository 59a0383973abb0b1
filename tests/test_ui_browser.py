"""The web app in a real browser: Playwright driving Debian's Chromium (/usr/bin/chromium).

One app serves the whole module: a copy of sources/ plus a hostile article (script tags,
onerror images, javascript: links, remote images in every field) is indexed in a temporary
folder and served on a free 127.0.0.1 port. Each test opens a fresh page, records every
request and dialog, and checks that all requests went to 127.0.0.1 and no dialog fired.
Screenshots land in test-artifacts/ (git-ignored); docs/screenshot-chat.png is a copy of
test-artifacts/chat-citation.png. Chromium is installed by the project's test setup
(`apt-get install -y chromium`); without it these tests fail rather than skip.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from helpers import ARTIFACTS, SEED_SOURCES

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SEED_QUESTION = "Since when has Moscow kept unofficial contacts with the Taliban?"
UNANSWERABLE = "Who won the 2022 FIFA World Cup?"
NEW_ARTICLE = """---
title: Kelvedon Harbour hosts its first lantern regatta
publisher: Coastal Courier (test fixture)
date: 2025-05-03
url: https://example.org/kelvedon-lantern-regatta
---
# Kelvedon Harbour hosts its first lantern regatta

The first Kelvedon lantern regatta was held on 2 May 2025, when forty-two rowing boats \
carried paper lanterns across the harbour after dark.

Organisers said the regatta raised 18,400 pounds for the local lifeboat station. The \
harbour master, Imogen Tresillian, called the evening a complete success.
"""
HOSTILE = {
    "id": "xss-1",
    "title": "<img src=x onerror=\"window.__pwned=1;alert('title')\"> Quillfeather "
    "<script>window.__pwned=2</script>",
    "publisher": "<script>alert('publisher')</script>Evil Press",
    "date": "2025-05-04",
    "url": "javascript:alert('url')",
    "text": 'The Quillfeather Museum reopened on 9 June 2025 <img src=x onerror="window.'
    "__pwned=3;alert('text')\"> after a long restoration. <script>window.__pwned=4;"
    "alert('script')</script>\n\nVisitors saw ${window.__pwned=5} and {{constructor."
    "constructor('window.__pwned=6')()}} on the new welcome screen <img src=\"http://"
    '203.0.113.9/pixel.png"> next to <a href="javascript:alert(\'link\')">a link</a>.'
    "\n\nThe museum's curator, Orla Pennant, wrote ![tracker](http://203.0.113.9/md.png)"
    " and [click me](javascript:alert('md')) in the museum guestbook <iframe src=\""
    'http://203.0.113.9/"></iframe>.',
}

# One file, three articles: removing one of them must say the whole file goes.
WIRE = [
    {
        "id": f"wire-{i}",
        "title": f"Wire item {i}",
        "text": f"Wire item {i}: the harbour of Port Ellery was dredged in March 202{i}, "
        f"at a cost of {i}00,000 euros, the port authority said.",
    }
    for i in range(1, 4)
]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's Chromium. Run the "
            "project's test setup (.ci/run), or: apt-get update && apt-get install -y chromium"
        )
    from rag import api
    from rag.settings import Settings
    from ui.app import build_app, run_in_thread

    tmp = tmp_path_factory.mktemp("ui-browser")
    shutil.copytree(SEED_SOURCES, tmp / "sources")
    (tmp / "sources" / "quillfeather.jsonl").write_text(json.dumps(HOSTILE) + "\n")
    (tmp / "sources" / "wire.jsonl").write_text("".join(json.dumps(w) + "\n" for w in WIRE))
    (tmp / "upload").mkdir()
    (tmp / "upload" / "kelvedon-regatta.md").write_text(NEW_ARTICLE)
    (tmp / "upload" / "broken.pdf").write_bytes(b"this is not a PDF")
    settings = Settings.load(sources=tmp / "sources", index=tmp / "index", progress=False)
    api.index(settings)
    url, stop = run_in_thread(build_app(settings))
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        yield {"url": url, "settings": settings, "tmp": tmp}
    finally:
        stop()


@pytest.fixture(scope="module")
def browser(app: dict) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class Tab:
    page: Any
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def assert_offline(self, name: str) -> None:
        """Every request of this page went to 127.0.0.1 (counted into test-artifacts/)."""
        network = [u for u in self.requests if urlsplit(u).scheme in ("http", "https", "ws", "wss")]
        elsewhere = [u for u in network if urlsplit(u).hostname != "127.0.0.1"]
        ARTIFACTS.mkdir(exist_ok=True)
        with (ARTIFACTS / "requests.txt").open("a") as f:
            f.write(f"{name}: {len(network)} requests, {len(elsewhere)} not to 127.0.0.1\n")
        assert network, "the page made no requests at all?"
        assert not elsewhere, f"requests left the machine: {elsewhere}"
        assert not self.dialogs, f"dialogs fired: {self.dialogs}"

    @classmethod
    def open(cls, page: Any, url: str, *, fresh: bool = True) -> Tab:
        """Load the app in `page`, recording every request and dismissing every dialog;
        once the latest saved conversation is back, start a new one unless `fresh` is off."""
        page.set_default_timeout(30_000)
        tab = cls(page)
        page.on("request", lambda r: tab.requests.append(r.url))
        page.on("dialog", lambda d: (tab.dialogs.append(d.message), d.dismiss()))
        page.goto(url)
        page.wait_for_selector("#rag-question textarea")
        page.wait_for_selector("#rag-sources .rag-loading", state="detached")
        if fresh:
            page.click("#rag-new")
            page.wait_for_function("!document.querySelector('#rag-chat .rag-done')")
        return tab


@pytest.fixture
def tab(app: dict, browser: Any) -> Iterator[Tab]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    yield Tab.open(context.new_page(), app["url"])
    context.close()


def ask(page: Any, question: str) -> Any:
    """Ask in the chat; wait for the finished answer bubble and return it."""
    done = "#rag-chat .rag-done, #rag-chat .rag-error"
    before = page.locator(done).count()
    page.fill("#rag-question textarea", question)
    page.click("#rag-ask")
    page.wait_for_function(f"document.querySelectorAll({json.dumps(done)}).length > {before}")
    return page.locator(done).nth(before)


def in_view(page: Any, selector: str) -> bool:
    """True when the element is inside both its scrolling panel and the window."""
    return page.eval_on_selector(
        selector,
        """el => { const r = el.getBoundingClientRect();
                   let box = el.parentElement;
                   while (box && !(box.scrollHeight > box.clientHeight &&
                          ['auto', 'scroll'].includes(getComputedStyle(box).overflowY)))
                       box = box.parentElement;
                   const b = box ? box.getBoundingClientRect() : {top: 0, bottom: innerHeight};
                   return r.top >= b.top - 1 && r.bottom <= b.bottom + 1 &&
                          r.top >= 0 && r.bottom <= innerHeight; }""",
    )


def test_seed_question_answer_quote_and_article(app: dict, tab: Tab) -> None:
    from rag import api

    expected = api.answer(SEED_QUESTION, app["settings"]).citations[0]
    page = tab.page
    bubble = ask(page, SEED_QUESTION)
    assert "[1]" in bubble.inner_text()
    assert bubble.locator(".rag-cite").count() >= 1
    page.wait_for_selector("#rag-sources mark.rag-quote")
    assert page.inner_text("#rag-sources mark.rag-quote") == expected.quote
    page.screenshot(path=str(ARTIFACTS / "chat.png"))

    bubble.locator(".rag-cite").first.click()
    page.wait_for_selector("#rag-article mark.rag-quote")
    assert page.inner_text("#rag-article mark.rag-quote") == expected.quote
    assert expected.title in page.inner_text("#rag-article .rag-article-title")
    page.wait_for_function("""() => { const m = document.querySelector('#rag-article mark');
        const r = m.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }""")
    assert in_view(page, "#rag-article mark.rag-quote")
    time.sleep(0.3)
    page.screenshot(path=str(ARTIFACTS / "chat-citation.png"))

    with page.expect_download() as download:
        page.click("#rag-export-one")
    markdown = Path(download.value.path()).read_text()
    assert f"# {SEED_QUESTION}" in markdown and f"> {expected.quote} [1]" in markdown
    tab.assert_offline("seed question")


def test_followup_says_what_was_searched(tab: Tab) -> None:
    ask(tab.page, "Why did Russia's Supreme Court lift the ban on the Taliban?")
    bubble = ask(tab.page, "When was that?")
    text = bubble.inner_text()
    assert "Searched: “When was that? " in text and "Taliban" in text
    assert "April 17, 2025" in text
    tab.assert_offline("follow-up")


def test_uploaded_article_is_listed_and_answerable(app: dict, tab: Tab) -> None:
    page = tab.page
    page.get_by_role("tab", name="Library").click()
    page.wait_for_selector("#rag-library table")
    upload = app["tmp"] / "upload"
    page.set_input_files(
        "#rag-upload input[type=file]",
        [str(upload / "kelvedon-regatta.md"), str(upload / "broken.pdf")],
    )
    page.wait_for_selector("#rag-upload-report .rag-ok", timeout=90_000)
    assert "kelvedon-regatta.md" in page.inner_text("#rag-upload-report .rag-ok")
    assert "broken.pdf" in page.inner_text("#rag-upload-report .rag-fail")  # its own error
    assert "not kept" in page.inner_text("#rag-upload-report .rag-fail")
    assert not (app["settings"].sources / "broken.pdf").exists()
    page.wait_for_function(
        "document.querySelector('#rag-library').innerText"
        ".includes('Kelvedon Harbour hosts its first lantern regatta')"
    )
    page.fill("#rag-lib-search textarea", "lantern")
    page.wait_for_function("document.querySelector('#rag-library').innerText.includes('1 match')")
    page.screenshot(path=str(ARTIFACTS / "library-upload.png"))

    page.get_by_role("tab", name="Chat").click()
    bubble = ask(page, "When was the first Kelvedon lantern regatta held?")
    assert "2 May 2025" in bubble.inner_text()
    assert "Kelvedon Harbour hosts its first lantern regatta" in bubble.inner_text()
    bubble.locator(".rag-cite").first.click()
    page.wait_for_selector("#rag-article mark.rag-quote")
    assert "Kelvedon" in page.inner_text("#rag-article .rag-article-title")

    page.get_by_role("tab", name="Library").click()
    page.click("#rag-remove-choice input")
    page.get_by_role(
        "option", name="Kelvedon Harbour hosts its first lantern regatta — kelvedon-regatta.md"
    ).click()
    page.click("#rag-remove")
    page.wait_for_selector("#rag-remove-confirm", state="visible")
    assert "kelvedon-regatta.md" in page.inner_text("#rag-remove-confirm")
    page.click("#rag-remove-yes")
    page.wait_for_selector("#rag-maintenance .rag-ok")
    page.wait_for_function(
        "document.querySelector('#rag-library').innerText.includes('No articles match')"
    )
    assert not (app["settings"].sources / "kelvedon-regatta.md").exists()
    assert list(app["settings"].sources.glob(".trash/*/kelvedon-regatta.md"))
    tab.assert_offline("upload")


def test_unanswerable_question_abstains(tab: Tab) -> None:
    page = tab.page
    bubble = ask(page, UNANSWERABLE)
    assert "Not found in the sources" in bubble.inner_text()
    assert bubble.locator(".rag-cite").count() == 0
    page.wait_for_selector("#rag-sources .rag-abstain")
    assert page.locator("#rag-sources article.rag-card").count() >= 3  # closest passages
    page.locator("#rag-sources article.rag-card").first.click()
    page.wait_for_selector("#rag-article mark.rag-passage-mark")
    page.screenshot(path=str(ARTIFACTS / "abstention.png"))
    tab.assert_offline("abstention")


def test_an_unsure_reply_looks_unlike_an_answer(tab: Tab, monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    from rag import api
    from rag.types import UNSURE
    from ui.render import UNSURE_LABEL

    unsure_question, real = "Which militant group attacked Moscow in March 2024?", api.answer

    def answer(question: str, *args: Any, **kwargs: Any) -> Any:
        """The real answer; to `unsure_question`, offered as a lead instead."""
        result = real(question, *args, **kwargs)
        if question != unsure_question:
            return result
        return replace(result, abstained=True, outcome=UNSURE, confidence=0.31)

    monkeypatch.setattr(api, "answer", answer)  # the app runs in this process
    page = tab.page
    answered = ask(page, SEED_QUESTION)
    lead = ask(page, unsure_question)
    assert lead.locator(".rag-unsure-label").inner_text() == UNSURE_LABEL
    assert lead.locator(".rag-cite").count() >= 1 and "confidence 31%" in lead.inner_text()
    assert answered.locator(".rag-unsure").count() == 0
    assert "Not found" not in lead.inner_text()

    def look(bubble: Any) -> list[str]:
        return bubble.locator(".rag-text").evaluate(
            "e => { const s = getComputedStyle(e); return [s.borderTopStyle, s.color, "
            "s.backgroundColor]; }"
        )

    assert look(lead)[0] == "dashed" and look(answered)[0] != "dashed"
    assert look(lead)[1:] != look(answered)[1:]  # muted text on its own background
    page.wait_for_selector("#rag-sources .rag-unsure")
    page.screenshot(path=str(ARTIFACTS / "unsure.png"))
    tab.assert_offline("unsure")


def test_hostile_source_renders_as_inert_text(tab: Tab) -> None:
    page = tab.page
    bubble = ask(page, "Who is the curator of the Quillfeather Museum?")
    assert "Orla Pennant" in bubble.inner_text()
    assert "<iframe src=" in bubble.inner_text()  # shown as text
    bubble.locator(".rag-cite").first.click()
    page.wait_for_selector("#rag-article mark.rag-quote")
    article = page.inner_text("#rag-article")
    assert "<script>window.__pwned=4;alert('script')</script>" in article
    assert "javascript:alert('url')" in article
    page.screenshot(path=str(ARTIFACTS / "hostile-source.png"))
    page.get_by_role("tab", name="Library").click()
    page.wait_for_selector("#rag-library table")
    assert "<script>alert('publisher')</script>Evil Press" in page.inner_text("#rag-library")
    time.sleep(0.5)  # give any injected handler the chance to run

    assert page.evaluate("window.__pwned") is None
    app_parts = "#rag-chat, #rag-sources, #rag-article, #rag-library"
    for tag in ("script", "iframe", "img", "svg[onload]"):
        found = page.eval_on_selector_all(
            f":is({app_parts}) {tag}",
            "els => els.map(e => e.outerHTML).filter(h => !h.startsWith('<svg'))",
        )
        assert found == [], found
    hrefs = page.eval_on_selector_all(f":is({app_parts}) a[href]", "els => els.map(a => a.href)")
    assert all(h.startswith(("http://", "https://")) for h in hrefs), hrefs
    tab.assert_offline("hostile source")
