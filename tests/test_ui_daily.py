"""The web app as a daily tool, in Debian's Chromium: nothing deleted by surprise,
conversations that survive a reload and a restart, follow-ups that only follow up, an
article reader that gets the room, a phone-width layout that works.

Uses the app, browser and page fixtures of test_ui_browser (its own copy of the module's
app: sources with a three-article wire.jsonl, index and conversations in tmp).
"""

# ruff: noqa: F811  (the fixtures imported from test_ui_browser are parameters here)
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers import ARTIFACTS
from test_ui_browser import (  # noqa: F401
    Tab,
    app,
    ask,
    browser,
    tab,
)

from rag.api import NOTHING_NEW
from ui.render import ASK_ALONE, BACK_TO_SOURCES
from ui.tabs import EXAMPLES, K_HELP

pytestmark = pytest.mark.slow
COURT = "Why did Russia's Supreme Court lift the ban on the Taliban?"


def open_tab(
    browser: Any, url: str, width: int, height: int, *, fresh: bool = True
) -> tuple[Tab, Any]:
    context = browser.new_context(
        viewport={"width": width, "height": height}, accept_downloads=True
    )
    return Tab.open(context.new_page(), url, fresh=fresh), context


def box(page: Any, selector: str) -> dict:
    return page.eval_on_selector(
        selector,
        "e => { const r = e.getBoundingClientRect(); return {top: r.top, bottom: r.bottom, "
        "left: r.left, right: r.right, height: r.height, shown: r.height > 0 && "
        "getComputedStyle(e).display !== 'none'}; }",
    )


def choose_removal(page: Any, label: str) -> None:
    page.get_by_role("tab", name="Library").click()
    page.wait_for_selector("#rag-library table")
    page.click("#rag-remove-choice input")
    page.get_by_role("option", name=label).click()
    page.click("#rag-remove")
    page.wait_for_selector("#rag-remove-confirm", state="visible")


def test_remove_says_what_goes_asks_first_and_keeps_the_file_in_the_trash(
    app: dict, tab: Tab
) -> None:
    page, sources = tab.page, app["settings"].sources
    before = {p.name for p in sources.iterdir() if p.is_file()}
    choose_removal(page, "Wire item 2 — wire.jsonl")
    text = page.inner_text("#rag-remove-confirm")
    assert "wire.jsonl" in text and "3 articles" in text and "whole file" in text
    assert (sources / "wire.jsonl").exists()  # asking deletes nothing
    page.click("#rag-remove-no")
    page.wait_for_selector("#rag-remove-confirm", state="hidden")
    assert (sources / "wire.jsonl").exists()

    choose_removal(page, "Wire item 2 — wire.jsonl")
    page.click("#rag-remove-yes")
    page.wait_for_selector("#rag-maintenance .rag-ok")
    assert "trash" in page.inner_text("#rag-maintenance")
    page.wait_for_function("!document.querySelector('#rag-library').innerText.includes('Wire')")
    after = {p.name for p in sources.iterdir() if p.is_file()}
    assert before - after == {"wire.jsonl"}  # nothing the user did not name
    assert len(list(sources.glob(".trash/*/wire.jsonl"))) == 1
    tab.assert_offline("remove asks first")


def test_delete_conversation_asks_first(tab: Tab) -> None:
    page = tab.page
    ask(page, "Since when has Moscow kept unofficial contacts with the Taliban?")
    page.click("#rag-clear")
    page.wait_for_selector("#rag-clear-confirm", state="visible")
    assert "(1 question, first" in page.inner_text("#rag-clear-confirm")
    assert page.locator("#rag-chat .rag-done").count() == 1  # still there
    page.click("#rag-clear-no")
    page.wait_for_selector("#rag-clear-confirm", state="hidden")
    assert page.locator("#rag-chat .rag-done").count() == 1
    page.click("#rag-clear")
    page.click("#rag-clear-yes")
    page.wait_for_function("document.querySelectorAll('#rag-chat .rag-done').length === 0")
    tab.assert_offline("delete asks first")


def test_conversations_and_settings_survive_a_reload_and_a_restart(app: dict, browser: Any) -> None:
    from ui.app import build_app, run_in_thread

    tab, context = open_tab(browser, app["url"], 1366, 768)
    page = tab.page
    ask(page, "Which militant group was behind the March 2024 terrorist attack in Moscow?")
    page.get_by_role("tab", name="Settings").click()
    page.get_by_label("Show match scores").check()
    page.get_by_role("tab", name="Chat").click()
    page.wait_for_selector("#rag-sources .rag-score")
    page.reload()
    page.wait_for_selector("#rag-sources .rag-loading", state="detached")
    page.wait_for_selector("#rag-chat .rag-done")
    assert "ISIS-K" in page.inner_text("#rag-chat")
    page.wait_for_selector("#rag-sources .rag-score")  # the setting came back too
    assert "1.000" not in page.inner_text("#rag-sources")
    context.close()

    url, stop = run_in_thread(build_app(app["settings"]))  # the app restarted
    try:
        tab, context = open_tab(browser, url, 1366, 768, fresh=False)
        page = tab.page
        page.wait_for_selector("#rag-chat .rag-done")
        assert "ISIS-K" in page.inner_text("#rag-chat")
        page.click("#rag-new")
        page.wait_for_function("document.querySelectorAll('#rag-chat .rag-done').length === 0")
        ask(page, "What fuel could Afghanistan help Russia move toward Southeast Asia?")
        page.click("#rag-history input")
        page.get_by_role("option", name="Which militant group").first.click()
        page.wait_for_function("document.querySelector('#rag-chat').innerText.includes('ISIS-K')")
        assert "natural gas" not in page.inner_text("#rag-chat")
        with page.expect_download() as download:
            page.click("#rag-export-all")
        markdown = Path(download.value.path()).read_text()
        assert "## Which militant group was behind" in markdown and "Exported " in markdown
        assert "\\[1\\]" not in markdown and "[1]" in markdown
        tab.assert_offline("restart")
        context.close()
    finally:
        stop()


def test_two_tabs_on_one_conversation_keep_both_questions(app: dict, browser: Any) -> None:
    first, context = open_tab(browser, app["url"], 1366, 768)
    ask(first.page, "Since when has Moscow kept unofficial contacts with the Taliban?")
    second = Tab.open(context.new_page(), app["url"], fresh=False)  # reopens the same one
    second.page.wait_for_selector("#rag-chat .rag-done")
    ask(first.page, "Which militant group was behind the March 2024 terrorist attack in Moscow?")
    ask(second.page, "What fuel could Afghanistan help Russia move toward Southeast Asia?")
    second.page.wait_for_function(
        "document.querySelectorAll('#rag-chat .rag-done').length === 3"
    )  # the tab that asked last shows the other tab's question too
    for page in (first.page, second.page):
        page.reload()
        page.wait_for_selector("#rag-sources .rag-loading", state="detached")
        page.wait_for_function("document.querySelectorAll('#rag-chat .rag-done').length === 3")
        text = page.inner_text("#rag-chat")
        assert "ISIS-K" in text and "natural gas" in text
    first.assert_offline("two tabs")
    context.close()


def test_a_question_that_names_its_subject_is_searched_as_written(tab: Tab) -> None:
    page = tab.page
    ask(page, COURT)
    bubble = ask(page, "Which countries removed the Taliban from their terrorist lists?")
    assert "Searched:" not in bubble.inner_text()
    bubble = ask(page, "When was that?")
    assert "Searched: “When was that? " in bubble.inner_text()
    bubble.get_by_text(ASK_ALONE).click()  # ask it again, on its own
    page.wait_for_function("document.querySelectorAll('#rag-chat .rag-done').length === 4")
    alone = page.locator("#rag-chat .rag-done").nth(3)
    assert "Searched:" not in alone.inner_text()
    tab.assert_offline("standalone questions")


def test_a_followup_that_finds_nothing_new_says_so(tab: Tab) -> None:
    ask(tab.page, COURT)
    bubble = ask(tab.page, "When was that?")
    assert NOTHING_NEW in bubble.inner_text()
    tab.assert_offline("nothing new")


def test_an_open_article_gets_the_right_column_at_1366x768(app: dict, browser: Any) -> None:
    tab, context = open_tab(browser, app["url"], 1366, 768)
    page = tab.page
    bubble = ask(page, "Which Central Asian country took the Taliban off its terrorist list?")
    bubble.locator(".rag-cite").first.click()
    page.wait_for_selector("#rag-article mark.rag-quote")
    page.wait_for_function(
        "getComputedStyle(document.querySelector('#rag-sources')).display === 'none'"
    )
    article, mark = box(page, "#rag-article"), box(page, "#rag-article mark.rag-quote")
    assert article["top"] < 200 and article["height"] > 500  # the column, not 3 lines
    middle = (mark["top"] + mark["bottom"]) / 2
    assert article["top"] < middle < article["bottom"] - 80  # not in the bottom 80 px
    page.screenshot(path=str(ARTIFACTS / "article-1366x768.png"))
    page.get_by_text(BACK_TO_SOURCES).click()
    page.wait_for_function(
        "getComputedStyle(document.querySelector('#rag-sources')).display !== 'none'"
    )

    page.get_by_role("tab", name="Library").click()
    page.wait_for_selector("#rag-library button.rag-doc")
    title = page.locator("#rag-library button.rag-doc").first
    name = title.inner_text()
    title.click()  # the in-app reader, not the publisher's site
    page.wait_for_selector("#rag-article .rag-article-title")
    assert page.inner_text("#rag-article .rag-article-title") == name
    assert len(context.pages) == 1
    assert not any(line.startswith("# ") for line in page.inner_text("#rag-article").split("\n"))
    tab.assert_offline("reader")
    context.close()


def test_example_questions_are_whole_and_ask(app: dict, browser: Any) -> None:
    tab, context = open_tab(browser, app["url"], 1366, 768)
    page = tab.page
    example = page.get_by_role("button", name=EXAMPLES[1])
    example.wait_for()
    assert "…" not in example.inner_text()
    assert page.evaluate(
        "([q]) => [...document.querySelectorAll('#rag-chat button')].some(b => "
        "b.innerText.trim() === q && b.scrollWidth <= b.clientWidth + 1)",
        [EXAMPLES[1]],
    )
    example.click()
    page.wait_for_selector("#rag-chat .rag-done")
    assert "2015" in page.inner_text("#rag-chat .rag-done")
    tab.assert_offline("examples")
    context.close()


def test_settings_explain_k_and_upload_report_sits_by_the_drop_zone(
    app: dict, browser: Any
) -> None:
    tab, context = open_tab(browser, app["url"], 1366, 768)
    page = tab.page
    page.get_by_role("tab", name="Settings").click()
    assert K_HELP in page.inner_text("body")
    page.get_by_role("tab", name="Library").click()
    page.wait_for_selector("#rag-library table")
    drop, report = box(page, "#rag-upload"), box(page, "#rag-upload-report")
    assert report["left"] >= drop["right"] - 1 and report["top"] < 768  # beside, in view
    tab.assert_offline("settings and upload layout")
    context.close()


def test_phone_width_library_fits_and_sources_come_before_examples(app: dict, browser: Any) -> None:
    tab, context = open_tab(browser, app["url"], 390, 844)
    page = tab.page
    ask(page, "Since when has Moscow kept unofficial contacts with the Taliban?")
    sources = box(page, "#rag-sources")
    examples = page.eval_on_selector_all(
        "button",
        "(els, qs) => els.filter(b => qs.includes(b.innerText.trim()))"
        ".map(b => b.getBoundingClientRect().top)",
        EXAMPLES,
    )
    assert all(top > sources["top"] for top in examples), (examples, sources)
    page.get_by_role("tab", name="Library").click()
    page.wait_for_selector("#rag-library table")
    widest = page.eval_on_selector_all(
        "#rag-library td", "els => Math.max(...els.map(e => e.getBoundingClientRect().right))"
    )
    assert widest <= 390, widest
    page.screenshot(path=str(ARTIFACTS / "library-phone.png"), full_page=True)
    tab.assert_offline("phone width")
    context.close()


def test_upload_shows_one_progress_bar(app: dict) -> None:
    from ui.page import build_blocks

    config = build_blocks(app["settings"]).get_config_file()
    ids = {c["id"]: c.get("props", {}).get("elem_id") for c in config["components"]}
    upload = [d for d in config["dependencies"] if "upload" in json.dumps(d.get("targets"))]
    assert upload and all(
        [ids[i] for i in d.get("show_progress_on") or []] == ["rag-upload-report"] for d in upload
    )
