"""Fast tests of ui.render: escaping, highlighting, links, panels and Markdown export.

Hostile text (script tags, event handlers, javascript: URLs, Markdown images) goes into
every field a source controls: article text, quotes, titles, publishers, URLs, file names.
"""

from __future__ import annotations

import html
import re
from dataclasses import replace

import pytest

from rag.types import NOT_FOUND, UNSURE, Answer, Citation, Passage
from ui import export, render

XSS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(2)">',
    '<a href="javascript:alert(3)">x</a>',
    "<iframe src=//203.0.113.9></iframe>",
    "![t](http://203.0.113.9/t.png) [c](javascript:alert(4))",
    "${alert(5)} {{constructor.constructor('alert(6)')()}}",
    '"><svg onload=alert(7)>',
]
# No tag a payload could open may survive: every "<" of source text must be escaped.
RAW_TAG = re.compile(r"<\s*(script|img|iframe|svg|a\s+href=.javascript)", re.I)


def make_answer(text: str = "On April 17, 2025, the court lifted the ban.", **meta: str) -> Answer:
    doc = "Intro sentence. " + text + " More text."
    start = doc.index(text)
    citation = Citation(
        n=1,
        doc_id="d1",
        title=meta.get("title", "Court lifts ban"),
        publisher=meta.get("publisher", "Paper"),
        date="2025-04-18",
        url=meta.get("url", "https://example.org/a"),
        quote=text,
        start=start,
        end=start + len(text),
    )
    passage = Passage(
        rank=1,
        chunk_id=0,
        doc_id="d1",
        title=citation.title,
        publisher=citation.publisher,
        date="2025-04-18",
        url=citation.url,
        text=doc,
        start=0,
        end=len(doc),
        score=1.0,
        similarity=0.6234,
        source="court.txt",
    )
    return Answer(
        question=meta.get("question", "When was the ban lifted?"),
        answer=f"{text} [1]",
        abstained=False,
        citations=[citation],
        passages=[passage],
        timings_ms={},
        searched=meta.get("searched", ""),
    )


def not_found(base: Answer, /, **changes: object) -> Answer:
    """`base` as a "not found" reply: no citations, the same passages."""
    fields: dict = {"answer": "The sources do not contain an answer.", "citations": []}
    return replace(base, abstained=True, outcome=NOT_FOUND, **{**fields, **changes})


def unsure(base: Answer, /, **changes: object) -> Answer:
    """`base` as an unsure reply: its quote offered as a lead."""
    return replace(base, abstained=True, outcome=UNSURE, **changes)


def assert_inert(fragment: str) -> None:
    assert not RAW_TAG.search(fragment), fragment
    assert "javascript:" not in re.findall(r'href="([^"]*)"', fragment)


def test_esc_and_highlight_mark_exact_offsets() -> None:
    text = "a <b> & c"
    assert render.esc(text) == "a &lt;b&gt; &amp; c"
    assert render.esc(None) == ""
    out = render.highlight(text, 2, 5)
    assert out == 'a <mark class="rag-quote">&lt;b&gt;</mark> &amp; c'
    assert render.highlight(text, -5, 99).count("<mark") == 1  # offsets are clamped
    assert "<mark" not in render.highlight(text, 4, 4)


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,x",
        "vbscript:x",
        "/relative/path",
        "//203.0.113.9/x",
        "https://",
        "http://a b",
        "",
        None,
        42,
    ],
)
def test_only_http_urls_become_links(url: object) -> None:
    assert render.safe_url(url) is None
    out = render.link(url, "label")
    assert "<a" not in out


def test_http_links_open_safely() -> None:
    out = render.link('https://example.org/a?b="c"&d=<e>', "Title <i>")
    assert out.startswith('<a href="https://example.org/a?b=&quot;c&quot;&amp;d=&lt;e&gt;"')
    assert 'target="_blank" rel="noopener noreferrer nofollow"' in out
    assert "Title &lt;i&gt;" in out


def test_locate_prefers_offsets_then_searches() -> None:
    text = "one two one"
    assert render.locate(text, "one", 8, 11) == (8, 11)
    assert render.locate(text, "one", 3, 6) == (0, 3)
    assert render.locate(text, "three", 0, 5) is None


def test_answer_bubble_has_clickable_markers_and_sources() -> None:
    answer = make_answer()
    out = render.answer_bubble(answer, 3)
    assert 'class="rag-cite rag-ref rag-ref-3-c-1"' in out
    assert ">[1]</button>" in out
    assert "Court lifts ban" in out and "original ↗" in out
    assert "Searched" not in out
    # a literal [7] with no citation 7 stays text
    answer.answer += " see [7]"
    assert "rag-ref-3-c-7" not in render.answer_bubble(answer, 3)


def test_answer_bubble_shows_the_confidence_when_there_is_one() -> None:
    answer = make_answer()
    assert "rag-confidence" not in render.answer_bubble(answer, 0)  # the cosine scorer chose
    out = render.answer_bubble(replace(answer, confidence=0.874), 0)
    assert ">confidence 87%<" in out and render.esc(render.CONFIDENCE_HELP) in out
    assert "shown is right" in render.CONFIDENCE_HELP
    assert "confidence" not in render.answer_bubble(
        replace(answer, confidence=0.9), 0, partial="On April …"
    )


def test_answer_bubble_streams_partial_text_without_sources() -> None:
    out = render.answer_bubble(make_answer(), 0, partial="On April …")
    assert "On April …" in out and "rag-srclist" not in out


def test_searched_query_is_shown_when_it_differs() -> None:
    answer = make_answer(question="When was that?", searched="When was that? court ban")
    assert "Searched: “When was that? court ban”" in render.answer_bubble(answer, 0)
    assert "Searched" in render.sources_panel(answer, 0)
    assert "*Searched:* When was that? court ban" in export.answer_markdown(answer)
    assert render.ASK_ALONE in render.answer_bubble(answer, 0)
    assert "rag-ref-0-s-0" in render.answer_bubble(answer, 0)
    assert render.ASK_ALONE not in render.answer_bubble(make_answer(), 0)


@pytest.mark.parametrize("payload", XSS)
def test_hostile_source_text_is_inert_everywhere(payload: str) -> None:
    answer = make_answer(
        f"The museum reopened {payload} on 9 June.",
        title=f"T {payload}",
        publisher=f"P {payload}",
        url="javascript:alert(9)",
        question=f"Q {payload}",
    )
    doc = {
        "doc_id": "d1",
        "source": f"f{payload}.txt",
        "title": f"T {payload}",
        "publisher": payload,
        "date": "2025",
        "url": "javascript:alert(9)",
        "text": answer.passages[0].text,
    }
    c = answer.citations[0]
    assert_inert(render.answer_bubble(answer, 0, partial=answer.answer[:30]))
    fragments = [
        render.user_bubble(answer.question),
        render.answer_bubble(answer, 0),
        render.answer_bubble(unsure(answer), 0),
        render.sources_panel(answer, 0, show_scores=True),
        render.sources_panel(unsure(answer), 0),
        render.article_view(doc, c.start, c.end, label=payload, quote=c.quote),
        render.library_table([{**doc, "chunks": 2, "added_at": payload}], ""),
        render.file_report([(f"{payload}.txt", False, payload)], payload),
        render.error_bubble(payload),
    ]
    for fragment in fragments:
        assert_inert(fragment)
        assert html.escape(payload, quote=True) in fragment  # shown, as text
    meta = render.meta_line(doc["publisher"], doc["date"], doc["url"])
    assert '<span class="rag-badurl">javascript:alert(9)</span>' in meta  # shown, as text only


def test_sources_panel_marks_quote_inside_its_passage_and_scores_on_request() -> None:
    answer = make_answer()
    out = render.sources_panel(answer, 2)
    assert 'Intro sentence. <mark class="rag-quote">On April 17, 2025' in out
    assert "rag-ref-2-c-1" in out and "rag-ref-2-p-1" in out
    assert "match" not in out
    scored = render.sources_panel(answer, 2, show_scores=True)
    assert "match 0.62" in scored and "1.000" not in scored  # not the per-question scale


def test_abstention_says_why_and_offers_closest_passages() -> None:
    why = "The question asks for a <date>, and no sentence close enough to answer holds one."
    answer = not_found(make_answer(), note=why, abstain_reason="no_figure", confidence=0.03)
    bubble = render.answer_bubble(answer, 0)
    assert "Not found in the sources" in bubble and "rag-ref-0-p-1" in bubble
    assert "asks for a &lt;date&gt;" in bubble and "<date>" not in bubble
    assert bubble.index("Not found") < bubble.index("asks for a") < bubble.index("rag-ref-0-p-1")
    panel = render.sources_panel(answer, 0)
    assert "Not found in the sources" in panel and "rag-ref-0-p-1" in panel
    md = export.answer_markdown(answer)
    assert "**Not found in the sources.**" in md and "Closest passages" in md
    assert "*Why:* The question asks for a" in md
    # Not found shows no confidence: it is that of an answer not shown.
    assert "confidence" not in bubble and "Confidence" not in md
    assert render.UNSURE_LABEL not in bubble + panel + md


def test_a_not_found_answer_offers_the_same_passages_everywhere() -> None:
    base = make_answer().passages[0]
    answer = not_found(
        make_answer(),
        passages=[replace(base, rank=r, doc_id=f"d{r}", title=f"T{r}") for r in range(1, 6)],
    )
    bubble, panel = render.answer_bubble(answer, 0), render.sources_panel(answer, 0)
    md = export.answer_markdown(answer)
    for r in range(1, 6):
        shown = r <= render.CLOSEST_SHOWN
        assert (f"rag-ref-0-p-{r}" in bubble) is shown
        assert (f"({r}) [T{r}]" in md) is shown
        assert f"rag-ref-0-p-{r}" in panel  # the rest stay under "more passages"
    assert (
        panel.index("rag-ref-0-p-3") < panel.index("2 more passages") < panel.index("rag-ref-0-p-4")
    )


def test_an_unsure_reply_reads_as_a_lead_not_as_an_answer() -> None:
    answered = make_answer()
    lead = unsure(answered, confidence=0.41, note="The reader is unsure <of it>.")
    label = render.esc(render.UNSURE_LABEL)
    bubble = render.answer_bubble(lead, 0)
    assert '<div class="rag-text rag-unsure"><span class="rag-unsure-label">' in bubble
    assert bubble.count(label) == 1 and render.NOT_FOUND_HEADING not in bubble
    assert bubble.index(label) < bubble.index("the court lifted") < bubble.index("rag-ref-0-c-1")
    assert ">confidence 41%<" in bubble and "rag-srclist" in bubble  # its source, to open
    assert "unsure &lt;of it&gt;" in bubble
    assert "rag-unsure" not in render.answer_bubble(answered, 0)
    panel = render.sources_panel(lead, 0)
    assert panel.count(label) == 1 and "rag-unsure" in panel and "rag-ref-0-c-1" in panel
    assert render.NOT_FOUND_HEADING not in panel
    assert "rag-unsure" not in render.sources_panel(answered, 0)
    # A reply that begins with the label's words shows them once, as the label, also while
    # it streams.
    worded = unsure(lead, answer=f"{render.UNSURE_LABEL} {answered.answer}")
    assert render.answer_bubble(worded, 0).count("articles may not") == 1
    for partial in ("The articles …", f"{render.UNSURE_LABEL} On April …"):
        shown = render.answer_bubble(worded, 0, partial=partial)
        assert shown.count("articles may not") == 1 and "rag-unsure" in shown


def test_the_unsure_label_is_the_lead_rag_writes() -> None:
    from rag import extractive

    assert getattr(extractive, "UNSURE_LEAD", render.UNSURE_LABEL) == render.UNSURE_LABEL


def test_the_markdown_export_says_each_outcome() -> None:
    answered = replace(make_answer(), confidence=0.874)
    md = export.answer_markdown(answered)
    assert "lifted the ban. [1]\n\nConfidence: 87%\n\nSources:" in md
    assert render.UNSURE_LABEL not in md and render.NOT_FOUND_HEADING not in md
    lead = unsure(answered, confidence=0.41, note="The reader is unsure.")
    md = export.answer_markdown(lead)
    assert f"*{render.UNSURE_LABEL}* On April 17, 2025, the court lifted the ban. [1]" in md
    assert "Confidence: 41%" in md and "*Why:* The reader is unsure." in md
    assert "Sources:" in md and "> On April 17" in md
    worded = unsure(lead, answer=f"{render.UNSURE_LABEL} {answered.answer}")
    assert export.answer_markdown(worded) == md  # the label's words, once
    gone = not_found(answered, note="Nothing close enough.")
    md = export.answer_markdown(gone)
    assert "**Not found in the sources.** The sources do not contain an answer." in md
    assert "*Why:* Nothing close enough." in md and "Closest passages:" in md
    assert "Confidence" not in md and render.UNSURE_LABEL not in md


def test_one_source_line_per_article_with_each_quote_clickable() -> None:
    answer = make_answer()
    c1 = answer.citations[0]
    answer.citations = [c1, replace(c1, n=2), replace(c1, n=3, doc_id="d2", title="Other")]
    answer.answer += " More [2] and [3]"
    bubble = render.answer_bubble(answer, 0)
    lines = re.findall(r"<li>.*?</li>", bubble.split('class="rag-srclist"')[1])
    assert len(lines) == 2
    assert "rag-ref-0-c-1" in lines[0] and "rag-ref-0-c-2" in lines[0]
    assert lines[0].count("Court lifts ban") == 1 and "Other" in lines[1]


def test_article_view_marks_the_quote_or_warns() -> None:
    text = "First. The quote is here. Last."
    doc = {"doc_id": "d", "source": "d.txt", "title": "D", "text": text}
    start = text.index("The quote")
    out = render.article_view(doc, start, start + 18, label="[1]", quote="The quote is here.")
    assert '<mark class="rag-quote">The quote is here.</mark>' in out
    moved = render.article_view(doc, 0, 18, label="x", quote="The quote is here.")
    assert '<mark class="rag-quote">The quote is here.</mark>' in moved
    gone = render.article_view(doc, 0, 5, label="x", quote="Not in it")
    assert "<mark" not in gone and "not found" in gone
    passage = render.article_view(doc, 0, 6, label="x")
    assert '<mark class="rag-quote rag-passage-mark">First.</mark>' in passage
    md = {**doc, "text": "# Heading\n\nBody. ## not a heading\n## Sub\nEnd."}
    shown = render.article_view(md, 0, 0, label="From the library")
    assert "# " not in shown.split("rag-article-text")[1].replace("## not", "")
    assert "Heading\n\nBody." in shown and "<mark" not in shown
    assert render.BACK_TO_SOURCES in shown
    assert "no longer in the index" in render.article_view(None, 0, 0, label="x")


def test_library_search_filters_on_every_word() -> None:
    docs = [
        {
            "doc_id": "a",
            "source": "a.txt",
            "title": "Court ruling",
            "publisher": "X",
            "date": "2025",
            "chunks": 3,
            "added_at": "2025-05-01T10:00:00",
        },
        {
            "doc_id": "b",
            "source": "b.md",
            "title": "Lantern regatta",
            "publisher": "Y",
            "date": "2024",
            "chunks": 1,
            "added_at": None,
        },
    ]
    assert [d["doc_id"] for d in render.filter_documents(docs, "regatta y")] == ["b"]
    assert render.filter_documents(docs, "") == docs
    table = render.library_table(docs, "court")
    assert "2 articles, 4 chunks" in table and "Court ruling" in table
    assert "Lantern" not in table and "2025-05-01 10:00:00" in table
    assert "No articles match" in render.library_table(docs, "zebra")
    # A title opens the in-app reader; every cell says which column it is (phone cards).
    assert '<button type="button" class="rag-doc" data-doc="a"' in table
    assert 'data-label="File"' in table and 'href="' not in table


def test_progress_is_said_in_plain_words() -> None:
    assert render.progress_words(1, 2, "reading a.md") == "Reading a.md (1 of 2 files)"
    assert render.progress_words(36, 340, "embedding") == "Preparing the articles for search"


def test_markdown_export_is_ready_to_paste_and_keeps_markup_inert() -> None:
    answer = make_answer(
        "He said <b>no</b> *twice* [2](javascript:x).",
        title="A [title](x)",
        url="https://example.org/a(b)<c>",
    )
    md = export.answer_markdown(answer)
    assert "## When was the ban lifted?" in md
    assert "[A \\[title\\](x)](https://example.org/a%28b%29%3Cc%3E)" in md
    assert "> He said \\<b\\>no\\</b\\> \\*twice\\* \\[2\\](javascript:x). [1]" in md
    assert "file court.txt" in md and "characters 16–" in md  # where the quote came from
    plain = export.answer_markdown(make_answer())
    assert "lifted the ban. [1]" in plain and "\\[" not in plain  # no escaped markers
    assert "[1] [Court lifts ban](https://example.org/a) — Paper, 2025-04-18" in plain
    bad = export.answer_markdown(make_answer(url="javascript:alert(1)"))
    assert "](javascript" not in bad and "address javascript:alert(1)" in bad
    conversation = export.conversation_markdown([answer, make_answer()], now=0)
    assert conversation.startswith("# Conversation\n\nExported 1970-01-01 00:00 UTC")
    assert conversation.count("\n## ") == 2
    assert "No questions asked yet" in export.conversation_markdown([])
    one = export.single_answer_markdown(make_answer(), now=0)
    assert one.startswith("# When was the ban lifted?\n\nExported 1970-01-01 00:00 UTC.")


# Markdown that CommonMark (or GitHub) would turn into links, images, HTML or blocks.
MARKDOWN_ATTACKS = [
    "![a[b]](http://evil.example/pixel.png)",
    "[[report]](http://evil.example/x)",
    "![[1]](http://evil.example/p.png) and [1](http://evil.example/m)",
    "[x][ref] and [ref]\n[ref]: http://evil.example/r",
    "[^1] note\n\n[^1]: http://evil.example/fn",
    "<http://evil.example/auto> and <mail@evil.example>",
    '<img src="http://evil.example/i.png"> <a href="http://evil.example/">a</a>',
    "[a](<http://evil.example/b c>) and [b]( http://evil.example/s 'title')",
    "\\[x](http://evil.example/e) and x\\\\[y](http://evil.example/f)",
    "&lt;img src=x&gt; &#91;x&#93;(http://evil.example/ent) AT&T",
    "`code` *em* _em_ **b** ~~s~~ a | b\n--- | ---\n c | d",
    "# heading\n- item\n+ item\n1. one\n2) two\n> quote\n    code\n---\n===",
]
HOSTILE_HOST = "evil.example"


def rendered_text(fragment: str) -> str:
    """The text a reader sees in rendered HTML, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


@pytest.mark.parametrize("attack", MARKDOWN_ATTACKS)
def test_the_markdown_export_renders_hostile_text_as_the_same_text(attack: str) -> None:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark")
    # As a bare string: CommonMark shows exactly the text, with no link, image or tag.
    out = md.render(export.md_text(attack))
    assert not re.search(r"<(a|img|h\d|li|pre|code|blockquote|table|hr|em|strong)\b", out), out
    assert rendered_text(out) == " ".join(attack.split())
    label = md.render(export.md_link("https://x.example", attack))  # the one link: ours
    assert re.findall(r"<(?:a|img)\b[^>]*>", label) == ['<a href="https://x.example">']
    assert rendered_text(label) == " ".join(attack.split())
    # Everywhere an export puts article or user text: question, title, publisher, quote.
    answer = make_answer(
        f"The museum reopened {attack} on 9 June.",
        title=f"T {attack}",
        publisher=f"P {attack}",
        question=f"Q {attack}",
        searched=f"S {attack}",
    )
    answer.passages[0].source = f"f {attack}.txt"
    abstained = not_found(answer, answer=f"A {attack}", note=f"N {attack}")
    lead = unsure(answer, note=f"N {attack}", confidence=0.2)
    for each in (answer, abstained, lead):
        out = md.render(export.conversation_markdown([each], title=f"C {attack}"))
        hrefs = re.findall(r"<(?:a|img)\b[^>]*>", out)
        assert hrefs == ['<a href="https://example.org/a">'] * len(hrefs), hrefs
        assert HOSTILE_HOST not in "".join(re.findall(r"<[^>]+>", out))  # text only


def test_ref_class_rejects_unknown_kinds() -> None:
    assert render.ref_class(1, "p", 2) == "rag-ref rag-ref-1-p-2"
    with pytest.raises(ValueError):
        render.ref_class(1, "x", 2)
