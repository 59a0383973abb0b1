"""The sources panel beside the chat: each cited quote marked inside its passage.

`sources_panel(answer, turn)` draws one card per citation (title, publisher, date, the
passage with the quote highlighted; a click opens the article), then every retrieved
passage under a fold. For a "not found" answer it shows the closest passages instead;
an unsure reply's quote comes under `UNSURE_LABEL`.
With `show_scores`, each passage carries its similarity to the question.

Left out: the chat bubbles (`answer`) and the whole-article view (`article`).
"""

from __future__ import annotations

from rag.types import NOT_FOUND, UNSURE, Answer, Citation, Passage

from .answer import NOT_FOUND_HEADING, UNSURE_LABEL, closest, searched_line
from .markup import esc, highlight, locate, meta_line, ref_class, title_of

SOURCES_PLACEHOLDER = (
    '<div class="rag-empty">Ask a question: the sources of each answer appear here, '
    "with the quoted sentence highlighted inside its passage.</div>"
)
LOADING = '<div class="rag-empty rag-loading">Opening your latest conversation…</div>'
MATCH_HELP = (
    "How close the passage's meaning is to the question (cosine similarity, 0 to 1; "
    "comparable across questions, above about 0.5 is usually on topic)"
)


def _passage_for(answer: Answer, citation: Citation) -> Passage | None:
    for p in answer.passages:
        if p.doc_id == citation.doc_id and p.start <= citation.start < p.end:
            return p
    return None


def quote_in_passage(answer: Answer, citation: Citation) -> str:
    """The passage holding the citation, escaped, with the quote marked (or the quote alone)."""
    p = _passage_for(answer, citation)
    quote = str(citation.quote)
    if p is not None:
        text = str(p.text)
        s = int(citation.start) - int(p.start)
        where = locate(text, quote, s, s + len(quote))
        if where:
            return highlight(text, *where)
    return f'<mark class="rag-quote">{esc(quote)}</mark>'


def _card(
    turn: int, kind: str, n: int, item: Citation | Passage, body: str, score: str = ""
) -> str:
    meta = meta_line(item.publisher, item.date, item.url)
    label = f"[{n}]" if kind == "c" else f"({n})"
    return (
        f'<article class="rag-card {ref_class(turn, kind, n)}" role="button" tabindex="0">'
        f'<div class="rag-card-head"><span class="rag-n">{label}</span> '
        f'<span class="rag-title">{esc(title_of(item.title, item.doc_id))}</span>{score}</div>'
        + (f'<div class="rag-meta">{meta}</div>' if meta else "")
        + f'<blockquote class="rag-passage">{body}</blockquote>'
        f'<div class="rag-open">Open the article ▸</div></article>'
    )


def _score(p: Passage, show_scores: bool) -> str:
    """The passage's similarity to the question. Not the ranking score: that one is
    scaled per question, so every top passage had 1.000."""
    if not show_scores or p.similarity is None:
        return ""
    return (
        f' <span class="rag-score" title="{esc(MATCH_HELP)}">match {float(p.similarity):.2f}</span>'
    )


def _passage_cards(passages: list[Passage], turn: int, show_scores: bool) -> str:
    return "".join(
        _card(turn, "p", int(p.rank), p, esc(p.text), _score(p, show_scores)) for p in passages
    )


def _details(label: str, passages: list[Passage], turn: int, show_scores: bool) -> str:
    if not passages:
        return ""
    cards = _passage_cards(passages, turn, show_scores)
    return f'<details class="rag-all"><summary>{esc(label)}</summary>{cards}</details>'


def sources_panel(answer: Answer, turn: int, *, show_scores: bool = False) -> str:
    """Beside the chat: the cited sources (quote marked in its passage), then all passages;
    for a "not found" reply, the closest passages first."""
    parts = [
        f'<div class="rag-sources" data-turn="{int(turn)}">'
        f'<div class="rag-for">Sources for: “{esc(answer.question)}”</div>',
        searched_line(answer, turn),
    ]
    passages = answer.passages
    if answer.outcome == NOT_FOUND:
        shown = closest(answer)
        parts.append(
            f'<div class="rag-abstain"><b>{NOT_FOUND_HEADING}.</b> '
            "The closest passages are below; judge them yourself.</div>"
        )
        parts.append(_passage_cards(shown, turn, show_scores))
        rest = passages[len(shown) :]
        parts.append(_details(f"{len(rest)} more passages", rest, turn, show_scores))
    else:
        if answer.outcome == UNSURE:
            parts.append(f'<div class="rag-unsure rag-unsure-label">{esc(UNSURE_LABEL)}</div>')
        for c in answer.citations:
            p = _passage_for(answer, c)
            score = _score(p, show_scores) if p else ""
            parts.append(_card(turn, "c", int(c.n), c, quote_in_passage(answer, c), score))
        label = f"All {len(passages)} retrieved passages"
        parts.append(_details(label, passages, turn, show_scores))
    parts.append("</div>")
    return "".join(parts)
