"""Follow-up questions: `contextualize(question, history)` makes them searchable.

"When was that?" after "Why did Russia's Supreme Court lift the ban on the Taliban?" has
nothing to search for on its own, so the topic words of the conversation are appended:
"When was that? Russia Supreme Court lift ban Taliban". The question stays first, so the
answerer still sees what kind of thing is asked ("when" wants a date).

Only a question without a subject of its own is a follow-up (`is_followup`):
- it names nothing ("When was that?", "Why?", "Tell me more"), or one thing and no name
  ("How many people died?", "At what prices?");
- it points out of itself: a pronoun with nothing before it that it could stand for
  ("What does *he* think of the decision?", "Why does *that* matter for Moscow?"), or
  "there"/"then" ("What did the delegation do there?");
- it is elliptic: "And Tajikistan?", "What about official ones?", "Did Kyrgyzstan do the
  same?". When it brings a name of its own, that name replaces the earlier subject (the
  first name of the earlier question), so "And what about Tajikistan?" after "When did
  Kazakhstan remove the Taliban from its list?" searches "... remove Taliban list".
A question that names its subject is searched as written, pronouns and all: "Which
countries removed the Taliban from *their* terrorist lists?", "Is *it* true that ...".
The topic is the last standalone question's words, then the words the follow-ups since
added. Pure string work: no model, no index, no generated text. Measured on
tests/eval/followup_questions.jsonl by `python -m rag.followup_eval` (BENCHMARKS.md).
"""

from __future__ import annotations

import re

from .lexical import is_word

# Words that can stand for something said earlier. Possessives may point inside the
# question ("the Taliban ... their lists"), so they count only with nothing before them.
POINTERS = frozenset(
    "that this it its they them their theirs those these he she him his her hers".split()
)
# Always point back to an earlier place or time (unless existential: "are there").
_PLACE_TIME = frozenset({"there", "then"})
# Words that name no topic: vague verbs, nouns and adverbs of questions.
_GENERIC = frozenset(
    """about else also so just really please tell me more happen happened happens mean
    meant say said says think thinks know want wants go went get got make made take took
    exactly much many often long far one ones thing things people anyone someone something
    anything kind sort way time times year years day reason reasons part point other others
    now still yet ever again too same such very well do does did done doing through
    between against under over after before during since until within without across
    toward towards among via per""".split()
)
# "And ...?", "What about ...?", "... do the same?", "... too?": the rest of the question
# is the earlier one.
_ELLIPTIC = re.compile(
    r"^\s*(?:and|or|but|also|what about|how about|what of)\b"
    r"|\b(?:the same|too|as well|likewise)\s*\W*$",
    re.IGNORECASE,
)
# "it" that stands for nothing: "Is it true that ...", "How long did it take ...".
_DUMMY_IT = re.compile(
    r"\b(?:is|was|isn't|wasn't|will|would) it (?:\w+ ){1,2}(?:to|that|for)\b"
    r"|\b(?:did|does|do|will|would) it take\b|\bit (?:is|was|takes|took) ",
    re.IGNORECASE,
)
_EXISTENTIAL = re.compile(r"\b(?:is|are|was|were) there\b|\bthere (?:is|are|was|were)\b", re.I)
MAX_CONTEXT_WORDS = 8
MAX_ELLIPTIC_WORDS = 2  # "And official ones?": an elliptic question adds at most this much

_WORD = re.compile(r"[^\W_][\w'’-]*")


def _tokens(text: str) -> list[str]:
    """Words of `text` with possessive 's stripped, in order."""
    return [re.sub(r"['’]s$", "", w) for w in _WORD.findall(text)]


def _topical(word: str) -> bool:
    low = word.lower()
    return is_word(low) and low not in _GENERIC and low not in POINTERS and low not in _PLACE_TIME


def content_words(text: str) -> list[str]:
    """The words of `text` that name its topic, in order, each once (case-insensitive)."""
    seen: set[str] = set()
    out = []
    for word in _tokens(text):
        if _topical(word) and word.lower() not in seen:
            seen.add(word.lower())
            out.append(word)
    return out


def _is_name(word: str, position: int) -> bool:
    """A capitalized word inside the sentence, or an acronym anywhere ("TAPI", "ISIS-K")."""
    if not _topical(word) or not word[:1].isupper():
        return False
    return position > 0 or (len(word) > 1 and any(c.isupper() for c in word[1:]))


def names(text: str) -> list[list[str]]:
    """The names in `text`: runs of capitalized words ("Zamir Kabulov", "Taliban")."""
    groups: list[list[str]] = []
    previous = -2
    for i, word in enumerate(_tokens(text)):
        if _is_name(word, i):
            if i == previous + 1:
                groups[-1].append(word)
            else:
                groups.append([word])
            previous = i
    return groups


def _points_out(question: str) -> bool:
    """A pronoun with no topic word before it, or "there"/"then" (not "is there")."""
    text = _DUMMY_IT.sub(" ", _EXISTENTIAL.sub(" ", question))
    named_before = False
    for word in _tokens(text):
        low = word.lower()
        if low in _PLACE_TIME or (low in POINTERS and not named_before):
            return True
        named_before = named_before or _topical(word)
    return False


def is_elliptic(question: str) -> bool:
    """ "And Tajikistan?", "What about ...", "... the same?": it reuses the earlier question."""
    return bool(_ELLIPTIC.search(question)) and len(content_words(question)) <= MAX_ELLIPTIC_WORDS


def is_followup(question: str) -> bool:
    """True when `question` has no subject of its own (see the module docstring)."""
    own = content_words(question)
    if not own or (len(own) == 1 and not names(question)):
        return True
    return is_elliptic(question) or _points_out(question)


def _replace_subject(question: str, topic: list[str]) -> list[str]:
    """`topic` without its first name when elliptic `question` brings a name instead:
    "And Tajikistan?" after "When did Kazakhstan remove ..." drops "Kazakhstan"."""
    if not (is_elliptic(question) and names(question)):
        return topic
    start = next((i for i, w in enumerate(topic) if w[:1].isupper()), len(topic))
    end = start
    while end < len(topic) and topic[end][:1].isupper():
        end += 1
    return topic[:start] + topic[end:]


def _resolve(question: str, topic: list[str]) -> str:
    if not topic:
        return question
    have = {w.lower() for w in content_words(question)}
    extra = [w for w in _replace_subject(question, topic) if w.lower() not in have]
    extra = extra[:MAX_CONTEXT_WORDS]
    return f"{question.strip()} {' '.join(extra)}".strip() if extra else question


def contextualize(question: str, history: list[str] | None = None) -> str:
    """The query to search for `question`, given the earlier questions of the conversation.

    `history` lists the previous user questions, oldest first. A standalone question is
    returned unchanged; a follow-up gets the topic words of the conversation: those of the
    last standalone question, then those the follow-ups after it added.
    """
    topic: list[str] = []
    for previous in history or []:
        if not previous or not previous.strip():
            continue
        own = content_words(previous)
        if is_followup(previous) and topic:
            topic = _replace_subject(previous, topic)
            topic += [w for w in own if w.lower() not in {t.lower() for t in topic}]
        else:
            topic = own
    return _resolve(question, topic) if is_followup(question) else question
