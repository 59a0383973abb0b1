"""Markdown exports of answers and conversations, ready to paste into a report.

An export shows what the chat showed: the question, what was searched when it differs,
the answer with its [n] markers as written (an unsure reply under the chat's label), its
confidence, the note (why it abstained, for an unsure or "not found" reply), then one
entry per cited article (title linked to the original, publisher, date, file) with each
of its quotes and where in the file's cleaned text the quote sits; a "not found" answer
lists the same closest passages the chat offers. Text from articles and users is
backslash-escaped wherever CommonMark or GitHub's Markdown would read it as markup (every
bracket, emphasis, code, HTML, entity, table and strikethrough character, and block marks
at line starts), so a hostile `![a[b]](http://...)` or `<http://...>` stays text that
reads the same once rendered; only a citation marker like "[1]" that no link can follow
stays as written. `conversation_file` and `answer_file` write an export to a file of its
own under one temporary folder, for a download button. No Gradio here.
"""

from __future__ import annotations

import re
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote as url_quote

from rag.types import NOT_FOUND, UNSURE, Answer, Citation, Passage

from .render import (
    NOT_FOUND_HEADING,
    UNSUPPORTED_LABEL,
    UNSURE_LABEL,
    after_label,
    by_article,
    closest,
    percent,
    safe_url,
)

# A citation marker "[1]" that no "(", "[" or ":" follows, kept as written; else one of the
# characters that make markup anywhere in a line, or an "&" that starts an entity.
_ACTIVE = re.compile(r"(\[\d+\])(?![(\[:])|([\\`*_\[\]<>|~]|&(?=#?\w+;))")
_INDENT = re.compile(r"(?<=\n)[ \t]+")  # four spaces make code, where escapes show
_BLOCK = re.compile(r"(?m)^(\d+[.)](?=[ \t]|$)|[#+=-])")  # headings, lists, rules, setext


def md_text(text: Any, *, markers: bool = True) -> str:
    """`text` as Markdown that renders as the same text: nothing in it becomes a link,
    image, tag, entity, code, emphasis, table or block. With `markers` off, citation
    markers are escaped too (inside a link's label, or text cut around a bold part)."""

    def escape(m: re.Match[str]) -> str:
        if not m[1]:
            return "\\" + m[2]
        return m[1] if markers else f"\\[{m[1][1:-1]}\\]"

    out = _ACTIVE.sub(escape, _INDENT.sub("", "" if text is None else str(text)))
    return _BLOCK.sub(lambda m: f"{m[0][:-1]}\\{m[0][-1]}", out)


def md_link(url: Any, label: str) -> str:
    """A Markdown link for http(s) URLs; anything else as text."""
    good = safe_url(url)
    if good is None:
        return md_text(label)
    label = md_text(" ".join(label.split()), markers=False)  # a blank line would end it
    return f"[{label}]({url_quote(good, safe=':/?#@!$&*+,;=%~.-_')})"


def _quote(text: str) -> str:
    return "\n".join("> " + md_text(line.lstrip()) for line in str(text).splitlines() or [""])


def _where(item: Citation | Passage, files: dict[str, str]) -> str:
    """Title (linked), publisher, date, file: where a quote or passage came from."""
    title = str(item.title or item.doc_id or "Untitled")
    head = md_link(item.url, title) if safe_url(item.url) else md_text(title)
    bits = [md_text(value) for value in (item.publisher, item.date) if value]
    if item.url and not safe_url(item.url):
        bits.append(f"address {md_text(item.url)}")
    source = files.get(str(item.doc_id))
    if source:
        bits.append(f"file {md_text(source)}")
    return head + (" — " + ", ".join(bits) if bits else "")


def _files(answer: Answer) -> dict[str, str]:
    """doc_id -> source file, from the answer's passages (citations come from them)."""
    return {str(p.doc_id): str(p.source) for p in answer.passages if p.source}


def _not_found(answer: Answer, files: dict[str, str]) -> list[str]:
    """A "not found" reply: why, then the closest passages, each quoted."""
    lines = [f"**{NOT_FOUND_HEADING}.** {md_text(answer.answer)}", ""]
    if answer.note:
        lines += [f"*Why:* {md_text(answer.note)}", ""]
    passages = closest(answer)
    if passages:
        lines += ["Closest passages:", ""]
    for p in passages:
        lines += [f"({int(p.rank)}) {_where(p, files)}", "", _quote(p.text), ""]
    return lines


def _sources(answer: Answer, files: dict[str, str]) -> list[str]:
    """One entry per cited article, then each of its quotes and where it sits."""
    groups = by_article(answer.citations)
    lines = ["Sources:", ""] if groups else []
    for group in groups:
        markers = " ".join(f"[{int(c.n)}]" for c in group)
        lines += [f"{markers} {_where(group[0], files)}", ""]
        for c in group:
            where = f"characters {int(c.start)}–{int(c.end)}"
            lines += [_quote(c.quote) + f" [{int(c.n)}]", f"> ({where})", ""]
    return lines


def answer_markdown(answer: Answer, *, heading: str = "##") -> str:
    """One answer as Markdown: question, searched query, answer (an unsure reply under its
    label), confidence, note, sources with their quotes."""
    files = _files(answer)
    lines = [f"{heading} {md_text(answer.question)}", ""]
    if answer.searched and answer.searched != answer.question:
        lines += [f"*Searched:* {md_text(answer.searched)}", ""]
    if answer.outcome == NOT_FOUND:
        return "\n".join(lines + _not_found(answer, files)).rstrip() + "\n"
    if answer.sentences:
        text = " ".join(
            md_text(x.text)
            + "".join(f" [{int(n)}]" for n in x.citations)
            + ("" if x.supported else f" ⚠ *({UNSUPPORTED_LABEL})*")
            for x in answer.sentences
        )
    else:
        text = md_text(after_label(answer.answer) if answer.outcome == UNSURE else answer.answer)
    if answer.outcome == UNSURE:
        text = f"*{md_text(UNSURE_LABEL)}* {text}"
    lines += [text, ""]
    if answer.confidence is not None:
        lines += [f"Confidence: {percent(answer.confidence)}%", ""]
    if answer.note:
        why = "Why" if answer.outcome == UNSURE else "Note"
        lines += [f"*{why}:* {md_text(answer.note)}", ""]
    return "\n".join(lines + _sources(answer, files)).rstrip() + "\n"


def _stamp(now: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(time.time() if now is None else now))


def conversation_markdown(
    answers: list[Answer], title: str = "Conversation", *, now: float | None = None
) -> str:
    """Every answer of a conversation, in order, as one Markdown document with its date."""
    stamp = _stamp(now)
    body = "\n".join(answer_markdown(a) for a in answers)
    head = f"# {md_text(title)}\n\nExported {stamp} from the articles in the library.\n\n"
    return head + (body or "*No questions asked yet.*\n")


def single_answer_markdown(answer: Answer, *, now: float | None = None) -> str:
    """One answer as a document of its own, with the export date."""
    text = answer_markdown(answer, heading="#")
    return text.replace("\n", f"\n\nExported {_stamp(now)}.\n", 1)


_EXPORTS: list[Path] = []  # the one temporary folder for Markdown exports, made on first use


def _write(text: str, name: str) -> str:
    """Write an export under its own random folder (Gradio then copies it to its cache)."""
    if not _EXPORTS:
        _EXPORTS.append(Path(tempfile.mkdtemp(prefix="rag-export-")))
    folder = _EXPORTS[0] / uuid.uuid4().hex
    folder.mkdir()
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def conversation_file(answers: list[Answer]) -> str | None:
    """A fresh Markdown file of the whole conversation; None when nothing was asked."""
    if not answers:
        return None
    name = f"conversation-{time.strftime('%Y%m%d-%H%M%S')}.md"
    return _write(conversation_markdown(answers), name)


def answer_file(answers: list[Answer], turn: int) -> str | None:
    """A fresh Markdown file of answer `turn`; None when there is no such answer."""
    if not 0 <= turn < len(answers):
        return None
    name = f"answer-{turn + 1}-{time.strftime('%Y%m%d-%H%M%S')}.md"
    return _write(single_answer_markdown(answers[turn]), name)
