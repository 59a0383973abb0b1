"""Follow-up questions: `contextualize(question, history)` makes them searchable.

"When was that?" after "Why did Russia's Supreme Court lift the ban on the Taliban?" has
nothing to search for on its own. When a question looks like a follow-up (it points back
with "that", "it", "they", ... or has at most one content word), the content words of the
previous question (itself resolved the same way) are appended, so the query becomes
"When was that? Russia Supreme Court lift ban Taliban". The question stays first, so the
answerer still sees what kind of thing is asked ("when" wants a date). Pure string work:
no model, no index, no generated text.
"""

from __future__ import annotations

import re

from .lexical import is_word

# Words that point back to something said earlier in the conversation.
DEICTIC = frozenset(
    {
        "that",
        "this",
        "it",
        "its",
        "they",
        "them",
        "their",
        "theirs",
        "those",
        "these",
        "he",
        "she",
        "him",
        "her",
        "his",
        "hers",
        "there",
        "then",
        "such",
        "same",
    }
)
# Words that carry no topic of their own in a question ("what about ...", "and ...").
_FILLER = frozenset(
    {"about", "else", "also", "so", "just", "really", "please", "tell", "me", "more"}
)
MAX_CONTEXT_WORDS = 8

_WORD = re.compile(r"[^\W_][\w'’-]*")


def _tokens(text: str) -> list[str]:
    """Words of `text` with possessive 's stripped, in order."""
    return [re.sub(r"['’]s$", "", w) for w in _WORD.findall(text)]


def content_words(text: str) -> list[str]:
    """The words of `text` that name its topic, in order, each once (case-insensitive)."""
    seen: set[str] = set()
    out = []
    for word in _tokens(text):
        low = word.lower()
        if not is_word(low) or low in _FILLER or low in DEICTIC or low in seen:
            continue
        seen.add(low)
        out.append(word)
    return out


def is_followup(question: str) -> bool:
    """True when `question` points back (that, it, they, ...) or names at most one topic word."""
    words = [w.lower() for w in _tokens(question)]
    return any(w in DEICTIC for w in words) or len(content_words(question)) <= 1


def _resolve(question: str, context: str) -> str:
    if not context or not is_followup(question):
        return question
    have = {w.lower() for w in content_words(question)}
    extra = [w for w in content_words(context) if w.lower() not in have][:MAX_CONTEXT_WORDS]
    return f"{question.strip()} {' '.join(extra)}".strip() if extra else question


def contextualize(question: str, history: list[str] | None = None) -> str:
    """The query to search for `question`, given the earlier questions of the conversation.

    `history` lists the previous user questions, oldest first. A standalone question is
    returned unchanged; a follow-up gets the content words of the (resolved) previous one.
    """
    context = ""
    for previous in history or []:
        if previous and previous.strip():
            context = _resolve(previous, context)
    return _resolve(question, context)
