"""The chat's bubbles: the question, the answer with clickable [n] markers, an error.

`answer_bubble(answer, turn)` draws one CONTRACT answer object: what was searched (when
the question was read as a follow-up, with a button to ask it alone), the note, the text
with each [n] of a known citation as a button, a local-LLM answer's unsupported sentences
flagged, the reader's confidence, and one line per cited article. A "not found" answer
says why (its note) and offers its `closest` passages instead. While an answer streams,
only its first words show.

Left out: the sources panel beside the chat (`sources`) and the article view (`article`).
"""

from __future__ import annotations

import re

from ..types import Json
from .markup import esc, meta_line, ref_class, title_of

NOT_FOUND_HEADING = "Not found in the sources"
SEARCHING = '<div class="rag-answer"><i>Searching the sources…</i></div>'
ASK_ALONE = "Ask without the earlier questions"
CLOSEST_SHOWN = 3  # passages offered under a "not found" answer (chat, panel and export)
CONFIDENCE_HELP = (
    "How likely the trained reader finds it that the first quote answers the question "
    "(calibrated on held-out questions; below the abstention threshold it says not found)"
)
UNSUPPORTED_LABEL = "not supported by its cited source"
_MARKER = re.compile(r"\[(\d{1,3})\]")


def user_bubble(question: str) -> str:
    """The user's question as inert text."""
    return f'<div class="rag-user">{esc(question)}</div>'


def error_bubble(message: str) -> str:
    """A library error (`str(RagError)`) shown in the chat, as text."""
    return f'<div class="rag-error">{esc(message)}</div>'


def _with_markers(text: str, turn: int, numbers: set[int]) -> str:
    """Escaped `text` with each `[n]` of a known citation turned into a clickable marker."""
    out, last = [], 0
    for m in _MARKER.finditer(text):
        n = int(m.group(1))
        if n not in numbers:
            continue
        out.append(esc(text[last : m.start()]))
        out.append(
            f'<button type="button" class="rag-cite {ref_class(turn, "c", n)}" '
            f'title="Open source [{n}]">[{n}]</button>'
        )
        last = m.end()
    out.append(esc(text[last:]))
    return "".join(out)


def searched_line(answer: Json, turn: int) -> str:
    """What was searched, when the question was read as a follow-up, with a button to
    ask the question again on its own."""
    question, searched = answer.get("question", ""), answer.get("searched") or ""
    if not searched or searched == question:
        return ""
    return (
        f'<div class="rag-searched">Searched: “{esc(searched)}” '
        f'<button type="button" class="rag-again {ref_class(turn, "s", 0)}">'
        f"{ASK_ALONE}</button></div>"
    )


def by_article(citations: list[Json]) -> list[list[Json]]:
    """Citations grouped by article, in the order each article is first cited."""
    groups: dict[str, list[Json]] = {}
    for c in citations:
        groups.setdefault(str(c.get("doc_id")), []).append(c)
    return list(groups.values())


def _source_lines(answer: Json, turn: int) -> str:
    """One line per cited article: its markers (each opens its own quote), title, meta."""
    items = []
    for group in by_article(answer.get("citations", [])):
        markers = "".join(
            f'<button type="button" class="rag-cite {ref_class(turn, "c", c["n"])}" '
            f'title="Open source [{int(c["n"])}]">[{int(c["n"])}]</button>'
            for c in group
        )
        first = group[0]
        meta = meta_line(first)
        items.append(
            f"<li>{markers} "
            f'<button type="button" class="rag-srcbtn {ref_class(turn, "c", first["n"])}">'
            f"{esc(title_of(first))}</button>"
            + (f' <span class="rag-meta">{meta}</span>' if meta else "")
            + "</li>"
        )
    return f'<ol class="rag-srclist">{"".join(items)}</ol>' if items else ""


def answer_bubble(answer: Json, turn: int, *, partial: str | None = None) -> str:
    """One answer for the chat: text with clickable [n] markers, then its sources under it,
    one line per article.

    With `partial` (the first words of the answer while it streams) only that text shows;
    the finished bubble carries the class `rag-done`.
    """
    done = "" if partial is not None else " rag-done"
    parts = [f'<div class="rag-answer{done}">', searched_line(answer, turn)]
    if answer.get("abstained"):
        parts.append(f'<div class="rag-abstain"><b>{NOT_FOUND_HEADING}.</b> ')
        parts.append(esc(partial if partial is not None else answer.get("answer", "")))
        parts.append("</div>")
        if partial is None:
            parts.append(_note(answer))
            parts.append(_closest_list(answer, turn))
        parts.append("</div>")
        return "".join(parts)
    numbers = {int(c["n"]) for c in answer.get("citations", [])}
    text = partial if partial is not None else answer.get("answer", "")
    if partial is None:
        parts.append(_note(answer))
    body = _with_markers(text, turn, numbers)
    if partial is None and answer.get("sentences"):
        body = " ".join(_checked_sentence(s, turn, numbers) for s in answer["sentences"])
    parts.append(f'<div class="rag-text">{body}</div>')
    if partial is None:
        parts.append(_confidence(answer))
        parts.append(_source_lines(answer, turn))
    parts.append("</div>")
    return "".join(parts)


def _note(answer: Json) -> str:
    """The answer's note (why it abstained, dates that differ, a fallback), or nothing."""
    note = answer.get("note")
    return f'<div class="rag-note">{esc(note)}</div>' if note else ""


def _confidence(answer: Json) -> str:
    """The reader's probability that the answer answers, in words a reader can weigh."""
    value = answer.get("confidence")
    if value is None:
        return ""
    return (
        f'<div class="rag-confidence" title="{esc(CONFIDENCE_HELP)}">'
        f"reader confidence {round(100 * float(value))}%</div>"
    )


def _checked_sentence(sentence: Json, turn: int, numbers: set[int]) -> str:
    """One sentence of a local-LLM answer; an unsupported one is flagged in plain sight."""
    markers = "".join(f" [{int(n)}]" for n in sentence.get("citations", []))
    body = _with_markers(str(sentence.get("text", "")) + markers, turn, numbers)
    if sentence.get("supported", True):
        return body
    return (
        f'<span class="rag-unsupported" title="{UNSUPPORTED_LABEL}">⚠ <em>{body}</em> '
        f"<small>({UNSUPPORTED_LABEL})</small></span>"
    )


def closest(answer: Json) -> list[Json]:
    """The passages offered under a "not found" answer: the first `CLOSEST_SHOWN`."""
    return list(answer.get("passages", []))[:CLOSEST_SHOWN]


def _closest_list(answer: Json, turn: int) -> str:
    passages = closest(answer)
    if not passages:
        return ""
    items = "".join(
        f'<li><button type="button" class="rag-srcbtn {ref_class(turn, "p", p["rank"])}">'
        f"({int(p['rank'])}) {esc(title_of(p))}</button></li>"
        for p in passages
    )
    return (
        '<div class="rag-closest">The closest passages are listed beside; judge them '
        f'yourself:<ol class="rag-srclist">{items}</ol></div>'
    )
