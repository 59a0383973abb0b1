"""The chat's bubbles: the question, the answer with clickable [n] markers, an error.

`answer_bubble(answer, turn)` draws one `rag.types.Answer` by its outcome. An answer: what
was searched (when the question was read as a follow-up, with a button to ask it alone),
the note, the text with each [n] of a known citation as a button, a local-LLM answer's
unsupported sentences flagged, the confidence that it is right, and one line per cited
article. An unsure reply is drawn the same way inside a muted frame under `UNSURE_LABEL`,
so the closest quote reads as a lead, not as the answer. A "not found" reply says why (its
note) and offers its `closest` passages instead. While an answer streams, only its first
words show.

Left out: the sources panel beside the chat (`sources`) and the article view (`article`).
"""

from __future__ import annotations

import re

from rag.types import NOT_FOUND, UNSURE, Answer, CheckedSentence, Citation, Passage

from .markup import esc, meta_line, ref_class, title_of

NOT_FOUND_HEADING = "Not found in the sources"
UNSURE_LABEL = "The articles may not answer this. Closest:"
SEARCHING = '<div class="rag-answer"><i>Searching the sources…</i></div>'
ASK_ALONE = "Ask without the earlier questions"
CLOSEST_SHOWN = 3  # passages offered under a "not found" answer (chat, panel and export)
CONFIDENCE_HELP = (
    "The probability that the answer shown is right (calibrated on held-out questions)"
)
UNSUPPORTED_LABEL = "not supported by its cited source"
_MARKER = re.compile(r"\[(\d{1,3})\]")
STILL_STREAMING = " …"  # ends the first words of an answer while it streams (ui.chat)


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
        out.append(_cite_button(turn, n))
        last = m.end()
    out.append(esc(text[last:]))
    return "".join(out)


def searched_line(answer: Answer, turn: int) -> str:
    """What was searched, when the question was read as a follow-up, with a button to
    ask the question again on its own."""
    if not answer.searched or answer.searched == answer.question:
        return ""
    return (
        f'<div class="rag-searched">Searched: “{esc(answer.searched)}” '
        f'<button type="button" class="rag-again {ref_class(turn, "s", 0)}">'
        f"{ASK_ALONE}</button></div>"
    )


def by_article(citations: list[Citation]) -> list[list[Citation]]:
    """Citations grouped by article, in the order each article is first cited."""
    groups: dict[str, list[Citation]] = {}
    for c in citations:
        groups.setdefault(str(c.doc_id), []).append(c)
    return list(groups.values())


def _cite_button(turn: int, n: int) -> str:
    return (
        f'<button type="button" class="rag-cite {ref_class(turn, "c", n)}" '
        f'title="Open source [{n}]">[{n}]</button>'
    )


def _source_lines(answer: Answer, turn: int) -> str:
    """One line per cited article: its markers (each opens its own quote), title, meta."""
    items = []
    for group in by_article(answer.citations):
        markers = "".join(_cite_button(turn, int(c.n)) for c in group)
        first = group[0]
        meta = meta_line(first.publisher, first.date, first.url)
        items.append(
            f"<li>{markers} "
            f'<button type="button" class="rag-srcbtn {ref_class(turn, "c", first.n)}">'
            f"{esc(title_of(first.title, first.doc_id))}</button>"
            + (f' <span class="rag-meta">{meta}</span>' if meta else "")
            + "</li>"
        )
    return f'<ol class="rag-srclist">{"".join(items)}</ol>' if items else ""


def after_label(text: str) -> str:
    """The text of an unsure reply to show after `UNSURE_LABEL`: when the reply begins with
    the label's words (or, while it streams, with some of them) the label shows them once."""
    if text.startswith(UNSURE_LABEL):
        return text[len(UNSURE_LABEL) :].lstrip()
    return "" if UNSURE_LABEL.startswith(text.removesuffix(STILL_STREAMING)) else text


def answer_bubble(answer: Answer, turn: int, *, partial: str | None = None) -> str:
    """One reply for the chat, by its outcome: an answer (text with clickable [n] markers,
    then its sources, one line per article), an unsure reply (the same under
    `UNSURE_LABEL`, in a frame of its own) or "not found".

    With `partial` (the first words of the answer while it streams) only that text shows;
    the finished bubble carries the class `rag-done`.
    """
    done = "" if partial is not None else " rag-done"
    text = partial if partial is not None else answer.answer
    parts = [f'<div class="rag-answer{done}">', searched_line(answer, turn)]
    if answer.outcome == NOT_FOUND:
        parts.append(f'<div class="rag-abstain"><b>{NOT_FOUND_HEADING}.</b> ')
        parts.append(esc(text))
        parts.append("</div>")
        if partial is None:
            parts.append(_note(answer))
            parts.append(_closest_list(answer, turn))
        parts.append("</div>")
        return "".join(parts)
    numbers = {int(c.n) for c in answer.citations}
    if partial is None:
        parts.append(_note(answer))
    if answer.outcome == UNSURE:
        text = after_label(text)
    body = _with_markers(text, turn, numbers)
    if partial is None and answer.sentences:
        body = " ".join(_checked_sentence(s, turn, numbers) for s in answer.sentences)
    if answer.outcome == UNSURE:
        label = f'<span class="rag-unsure-label">{esc(UNSURE_LABEL)}</span>'
        parts.append(f'<div class="rag-text rag-unsure">{label} {body}</div>')
    else:
        parts.append(f'<div class="rag-text">{body}</div>')
    if partial is None:
        parts.append(_confidence(answer))
        parts.append(_source_lines(answer, turn))
    parts.append("</div>")
    return "".join(parts)


def _note(answer: Answer) -> str:
    """The answer's note (why it abstained, dates that differ, a fallback), or nothing."""
    return f'<div class="rag-note">{esc(answer.note)}</div>' if answer.note else ""


def percent(confidence: float) -> int:
    """A confidence (0..1) in whole percent, as the chat and the export show it."""
    return round(100 * float(confidence))


def _confidence(answer: Answer) -> str:
    """The probability that the answer shown is right, in words a reader can weigh."""
    if answer.confidence is None:
        return ""
    return (
        f'<div class="rag-confidence" title="{esc(CONFIDENCE_HELP)}">'
        f"confidence {percent(answer.confidence)}%</div>"
    )


def _checked_sentence(sentence: CheckedSentence, turn: int, numbers: set[int]) -> str:
    """One sentence of a local-LLM answer; an unsupported one is flagged in plain sight."""
    markers = "".join(f" [{int(n)}]" for n in sentence.citations)
    body = _with_markers(str(sentence.text) + markers, turn, numbers)
    if sentence.supported:
        return body
    return (
        f'<span class="rag-unsupported" title="{UNSUPPORTED_LABEL}">⚠ <em>{body}</em> '
        f"<small>({UNSUPPORTED_LABEL})</small></span>"
    )


def closest(answer: Answer) -> list[Passage]:
    """The passages offered under a "not found" answer: the first `CLOSEST_SHOWN`."""
    return answer.passages[:CLOSEST_SHOWN]


def _closest_list(answer: Answer, turn: int) -> str:
    passages = closest(answer)
    if not passages:
        return ""
    items = "".join(
        f'<li><button type="button" class="rag-srcbtn {ref_class(turn, "p", p.rank)}">'
        f"({int(p.rank)}) {esc(title_of(p.title, p.doc_id))}</button></li>"
        for p in passages
    )
    return (
        '<div class="rag-closest">The closest passages are listed beside; judge them '
        f'yourself:<ol class="rag-srclist">{items}</ol></div>'
    )
