"""Markdown exports of answers and conversations, ready to paste into a report.

An export shows what the chat showed: the question, what was searched when it differs,
the answer with its [n] markers as written, the note, then one entry per cited article
(title linked to the original, publisher, date, file) with each of its quotes and where
in the file's cleaned text the quote sits; a "not found" answer lists the same closest
passages the chat offers. Text from articles and users is backslash-escaped wherever
CommonMark or GitHub's Markdown would read it as markup (every bracket, emphasis, code,
HTML, entity, table and strikethrough character, and block marks at line starts), so a
hostile `![a[b]](http://...)` or `<http://...>` stays text that reads the same once
rendered; only a citation marker like "[1]" that no link can follow stays as written.
`conversation_file` and `answer_file`
write an export to a file of its own under one temporary folder, for a download button.
No Gradio here.
"""

from __future__ import annotations

import re
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote as url_quote

from .render import (
    NOT_FOUND_HEADING,
    UNSUPPORTED_LABEL,
    by_article,
    closest,
    safe_url,
)
from .types import Json

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


def _where(item: Json, files: dict[str, str]) -> str:
    """Title (linked), publisher, date, file: where a quote or passage came from."""
    title = str(item.get("title") or item.get("doc_id") or "Untitled")
    head = md_link(item.get("url"), title) if safe_url(item.get("url")) else md_text(title)
    bits = [md_text(item[k]) for k in ("publisher", "date") if item.get(k)]
    if item.get("url") and not safe_url(item.get("url")):
        bits.append(f"address {md_text(item['url'])}")
    source = files.get(str(item.get("doc_id"))) or item.get("source")
    if source:
        bits.append(f"file {md_text(source)}")
    return head + (" — " + ", ".join(bits) if bits else "")


def _files(answer: Json) -> dict[str, str]:
    """doc_id -> source file, from the answer's passages (citations come from them)."""
    return {
        str(p.get("doc_id")): str(p["source"])
        for p in answer.get("passages", [])
        if p.get("source")
    }


def answer_markdown(answer: Json, *, heading: str = "##") -> str:
    """One answer as Markdown: question, searched query, answer, sources with their quotes."""
    files = _files(answer)
    lines = [f"{heading} {md_text(answer.get('question', ''))}", ""]
    searched = answer.get("searched") or ""
    if searched and searched != answer.get("question"):
        lines += [f"*Searched:* {md_text(searched)}", ""]
    if answer.get("abstained"):
        lines += [f"**{NOT_FOUND_HEADING}.** {md_text(answer.get('answer', ''))}", ""]
        if answer.get("note"):
            lines += [f"*Why:* {md_text(answer['note'])}", ""]
        passages = closest(answer)
        if passages:
            lines += ["Closest passages:", ""]
            for p in passages:
                lines += [
                    f"({int(p['rank'])}) {_where(p, files)}",
                    "",
                    _quote(p.get("text", "")),
                    "",
                ]
        return "\n".join(lines).rstrip() + "\n"
    if answer.get("sentences"):
        shown = [
            md_text(x.get("text", ""))
            + "".join(f" [{int(n)}]" for n in x.get("citations", []))
            + ("" if x.get("supported", True) else f" ⚠ *({UNSUPPORTED_LABEL})*")
            for x in answer["sentences"]
        ]
        lines += [" ".join(shown), ""]
    else:
        lines += [md_text(answer.get("answer", "")), ""]
    if answer.get("note"):
        lines += [f"*Note:* {md_text(answer['note'])}", ""]
    groups = by_article(answer.get("citations", []))
    if groups:
        lines += ["Sources:", ""]
    for group in groups:
        markers = " ".join(f"[{int(c['n'])}]" for c in group)
        lines += [f"{markers} {_where(group[0], files)}", ""]
        for c in group:
            where = f"characters {int(c.get('start', 0))}–{int(c.get('end', 0))}"
            lines += [_quote(c.get("quote", "")) + f" [{int(c['n'])}]", f"> ({where})", ""]
    return "\n".join(lines).rstrip() + "\n"


def _stamp(now: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(time.time() if now is None else now))


def conversation_markdown(
    answers: list[Json], title: str = "Conversation", *, now: float | None = None
) -> str:
    """Every answer of a conversation, in order, as one Markdown document with its date."""
    stamp = _stamp(now)
    body = "\n".join(answer_markdown(a) for a in answers)
    head = f"# {md_text(title)}\n\nExported {stamp} from the articles in the library.\n\n"
    return head + (body or "*No questions asked yet.*\n")


def single_answer_markdown(answer: Json, *, now: float | None = None) -> str:
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


def conversation_file(answers: list[Json]) -> str | None:
    """A fresh Markdown file of the whole conversation; None when nothing was asked."""
    if not answers:
        return None
    name = f"conversation-{time.strftime('%Y%m%d-%H%M%S')}.md"
    return _write(conversation_markdown(answers), name)


def answer_file(answers: list[Json], turn: int) -> str | None:
    """A fresh Markdown file of answer `turn`; None when there is no such answer."""
    if not 0 <= turn < len(answers):
        return None
    name = f"answer-{turn + 1}-{time.strftime('%Y%m%d-%H%M%S')}.md"
    return _write(single_answer_markdown(answers[turn]), name)
