"""The dataclasses passed between pipeline stages.

read -> `Document` -> clean -> `CleanText` -> chunk -> `Chunk` -> index -> retrieve ->
`Passage` -> answer -> `Answer` (with `Citation`s). In LLM mode a local model's
`LLMOutput` is checked sentence by sentence (`CheckedSentence`, rag/grounding.py) and the
run is reported as `LLMRun`. Offsets are always character offsets (Python `str` indices)
into the document's *cleaned* text unless a name says `raw`. Nothing here does work; it
only names what flows between modules: `to_json()` says how an answer is printed and
`Answer.from_json()` reads it back (the chat's saved conversations).
"""

from __future__ import annotations

import bisect
from dataclasses import asdict, dataclass, field, fields
from typing import Any


def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    """The items of `data` that name a field of dataclass `cls` (older or newer objects may
    carry keys it does not know)."""
    names = {f.name for f in fields(cls)}
    return {key: value for key, value in data.items() if key in names}


@dataclass
class Document:
    """One article as a reader found it, before cleaning.

    `text` is the reader's extracted text (for .txt the file itself); `pages` maps
    character offsets in `text` to PDF page numbers as `(start_offset, page)` pairs.
    `chrome_removed` says the reader kept only the article body (a web page read by
    trafilatura), so cleaning keeps every line and only makes the text safe.
    """

    doc_id: str
    source: str
    text: str
    title: str = ""
    publisher: str = ""
    author: str = ""
    date: str = ""
    url: str = ""
    pages: list[tuple[int, int]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    chrome_removed: bool = False

    def page_at(self, raw_offset: int) -> int | None:
        """The PDF page holding `raw_offset`, or None for documents without pages."""
        if not self.pages:
            return None
        i = bisect.bisect_right([start for start, _ in self.pages], raw_offset) - 1
        return self.pages[max(i, 0)][1]


@dataclass(frozen=True)
class Span:
    """`length` characters at `clean_start` in the cleaned text came from `raw_start`."""

    clean_start: int
    raw_start: int
    length: int


@dataclass
class CleanText:
    """Cleaned text plus the map back to the raw text it was cut from."""

    text: str
    spans: list[Span]

    def to_raw(self, offset: int) -> int:
        """Map a cleaned-text offset (0..len) to the raw-text offset it came from."""
        if not self.spans:
            return 0
        starts = [s.clean_start for s in self.spans]
        i = max(bisect.bisect_right(starts, offset) - 1, 0)
        span = self.spans[i]
        return span.raw_start + min(offset - span.clean_start, span.length)


@dataclass
class Chunk:
    """A run of whole sentences of one document, small enough for the embedder."""

    doc_id: str
    ordinal: int
    start: int
    end: int
    text: str
    sentences: list[tuple[int, int]]


@dataclass
class Passage:
    """A retrieved chunk, with its document's metadata and its retrieval score."""

    rank: int
    chunk_id: int
    doc_id: str
    title: str
    publisher: str
    date: str
    url: str
    text: str
    start: int
    end: int
    score: float  # the blend ranking this question's candidates, scaled 0..1 per question
    sentences: list[tuple[int, int]] = field(default_factory=list)
    # Cosine of the passage to the question: unlike `score`, comparable across questions.
    similarity: float | None = None
    source: str = ""  # the file it came from, relative to the sources folder

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        del data["sentences"], data["chunk_id"]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Passage:
        """The passage `to_json()` printed; its chunk id (-1) and sentences are not in it."""
        return cls(**{"chunk_id": -1, **_known(cls, data)})


@dataclass
class Citation:
    """One quoted sentence backing an answer; `text[start:end] == quote` in its document."""

    n: int
    doc_id: str
    title: str
    publisher: str
    date: str
    url: str
    quote: str
    start: int
    end: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Citation:
        return cls(**_known(cls, data))


@dataclass
class CheckedSentence:
    """One sentence of a generated answer, as the checker (rag/grounding.py) judged it."""

    text: str  # the claim, markers removed
    supported: bool
    passages: list[int]  # valid passage numbers it cited
    citations: list[int] = field(default_factory=list)  # Citation.n of its quotes
    cosine: float = 0.0
    overlap: float = 0.0
    numbers_ok: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "supported": self.supported,
            "citations": self.citations,
            "cosine": round(self.cosine, 3),
            "overlap": round(self.overlap, 3),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CheckedSentence:
        """The sentence `to_json()` printed; the passages it cited are not in it."""
        return cls(
            text=data["text"],
            supported=data["supported"],
            passages=[],
            citations=list(data.get("citations", [])),
            cosine=data.get("cosine", 0.0),
            overlap=data.get("overlap", 0.0),
        )


@dataclass
class LLMOutput:
    """One completion by a local model (rag/llm): its text and how long it took."""

    text: str
    tokens: int  # completion tokens (streamed pieces when the server gives no usage)
    seconds: float  # from request to last token
    first_token_s: float  # prompt processing, roughly
    # The rate an answer object printed, for a run read back from it (`LLMRun.from_json`),
    # which keeps the rate but not the time to the first token; None: from the timings.
    printed_rate: float | None = None

    @property
    def tokens_per_s(self) -> float:
        if self.printed_rate is not None:
            return self.printed_rate
        decode = self.seconds - self.first_token_s
        if self.tokens > 1 and decode > 0:
            return round((self.tokens - 1) / decode, 1)
        return round(self.tokens / self.seconds, 1) if self.seconds > 0 else 0.0


@dataclass
class LLMRun:
    """What the local model did for one answer: `Answer.llm`, whether or not it was kept."""

    model: str  # the backend's name: the GGUF file name, or the server's model
    output: LLMOutput
    prompt_tokens: int  # estimated, in model tokens
    passages_given: int
    grounded: float | None = None  # share of sentences supported; None: it abstained
    removed_markers: int | None = None  # [n] naming no given passage; None: not checked

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "model": self.model,
            "tokens": self.output.tokens,
            "tokens_per_s": self.output.tokens_per_s,
            "seconds": round(self.output.seconds, 2),
            "prompt_tokens": self.prompt_tokens,
            "passages_given": self.passages_given,
            "raw": self.output.text,
            "grounded": self.grounded,
        }
        if self.removed_markers is not None:
            data["removed_markers"] = self.removed_markers
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LLMRun:
        seconds = data["seconds"]
        output = LLMOutput(data["raw"], data["tokens"], seconds, seconds, data["tokens_per_s"])
        return cls(
            model=data["model"],
            output=output,
            prompt_tokens=data["prompt_tokens"],
            passages_given=data["passages_given"],
            grounded=data.get("grounded"),
            removed_markers=data.get("removed_markers"),
        )


# What a reply is (`Answer.outcome`): an answer, a lead the articles may not bear out (the
# closest quote, offered as such), or nothing found. Only an answer is not an abstention.
ANSWERED, UNSURE, NOT_FOUND = "answered", "unsure", "not_found"
OUTCOMES = (ANSWERED, UNSURE, NOT_FOUND)


@dataclass
class Answer:
    """The answer object of CONTRACT.md; `to_json()` is exactly what `rag ask --json` prints."""

    question: str
    answer: str
    abstained: bool
    citations: list[Citation]
    passages: list[Passage]
    timings_ms: dict[str, float]
    searched: str = ""
    # How the answer was made: "extractive" or "llm" (a local model, sentences checked).
    mode: str = "extractive"
    # LLM mode: every sentence of the model's answer, checked against what it cites.
    sentences: list[CheckedSentence] | None = None
    grounded: float | None = None  # LLM mode: share of sentences supported (0..1)
    note: str = ""  # why the answer is not what was asked for (e.g. the LLM fell back)
    llm: LLMRun | None = None  # when a local model ran (even if its answer was not kept)
    # The judge's probability (0..1) that the first quote (the answer, or an unsure reply's
    # lead) answers the question; None when the cosine scorer chose or nothing did.
    confidence: float | None = None
    # Why an extractive answer was withheld: a key of `rag.extractive.WHY_ABSTAINED`
    # ("unsure", "not_found", "off_topic", "no_sentence", "no_figure"), its words in `note`;
    # None when it answered or a local model abstained.
    abstain_reason: str | None = None
    # One of OUTCOMES; "" makes it follow `abstained` (answered, else not found).
    outcome: str = ""

    def __post_init__(self) -> None:
        if not self.outcome:
            self.outcome = NOT_FOUND if self.abstained else ANSWERED
        if self.outcome not in OUTCOMES or self.abstained != (self.outcome != ANSWERED):
            raise ValueError(f"outcome {self.outcome!r} does not fit abstained={self.abstained}")

    def to_json(self) -> dict[str, Any]:
        data = {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "outcome": self.outcome,
            "citations": [c.to_json() for c in self.citations],
            "passages": [p.to_json() for p in self.passages],
            "timings_ms": self.timings_ms,
            "searched": self.searched or self.question,
            "mode": self.mode,
        }
        optional = {
            "sentences": None if self.sentences is None else [s.to_json() for s in self.sentences],
            "grounded": self.grounded,
            "llm": None if self.llm is None else self.llm.to_json(),
            "confidence": self.confidence,
            "abstain_reason": self.abstain_reason,
        }
        data.update({key: value for key, value in optional.items() if value is not None})
        if self.note:
            data["note"] = self.note
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Answer:
        """The answer `to_json()` printed, read back: `from_json(d).to_json() == d`.

        Keys it does not know (a chat turn's `turn_id`) are ignored, and an object printed
        before a key existed gets its default (without `outcome`, it follows `abstained`).
        Raises ValueError when `data` is not an answer object.
        """
        try:
            sentences, llm = data.get("sentences"), data.get("llm")
            return cls(
                question=data["question"],
                answer=data["answer"],
                abstained=data["abstained"],
                citations=[Citation.from_json(c) for c in data.get("citations", [])],
                passages=[Passage.from_json(p) for p in data.get("passages", [])],
                timings_ms=dict(data.get("timings_ms", {})),
                searched=data.get("searched", ""),
                mode=data.get("mode", "extractive"),
                sentences=None
                if sentences is None
                else [CheckedSentence.from_json(s) for s in sentences],
                grounded=data.get("grounded"),
                note=data.get("note", ""),
                llm=None if llm is None else LLMRun.from_json(llm),
                confidence=data.get("confidence"),
                abstain_reason=data.get("abstain_reason"),
                outcome=data.get("outcome", ""),
            )
        except (AttributeError, KeyError, TypeError, ValueError) as e:
            raise ValueError(f"not an answer object: {type(e).__name__} {e}") from e
