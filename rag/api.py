"""The library's front door: `answer(question, settings)` and `index(settings)`.

The CLI and the web UI call these and nothing deeper. A loaded index is cached per index
folder and reopened when a newer generation is published (after an upload or re-index),
so a long-running app always answers from the current index.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from .errors import QuestionError
from .extractive import answer_question
from .formats import check_sources_folder
from .indexing import IndexReport, LoadedIndex, Progress, build_index, open_index, read_manifest
from .publish import lock
from .settings import MAX_K, MAX_QUESTION_CHARS, Settings
from .types import Answer
from .uploads import MAX_UPLOAD_BYTES as MAX_UPLOAD_BYTES  # re-exported: the UI sets it
from .uploads import add_sources as add_sources  # re-exported: the library's front door
from .uploads import recover

_CACHE: dict[Path, LoadedIndex] = {}
_CACHE_LOCK = threading.Lock()
T = TypeVar("T")
READ_ATTEMPTS = 5  # a read outlives this many index updates before it gives up
NOTHING_NEW = (
    "Nothing new: this follow-up's answer is the quote the previous answer already gave. "
    "Ask it with its own subject (or without the earlier questions) to search afresh."
)


# Undo the uploads a killed run left unindexed: (file, what happened) for each; the app's
# start runs it.
recover_uploads = recover


def check_question(question: str, k: int) -> str:
    """The question stripped, or a QuestionError saying what is wrong with it or with k."""
    question = (question or "").strip()
    if not question:
        raise QuestionError("The question is empty: type a question about the sources.")
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionError(
            f"The question is {len(question):,} characters long; the limit is "
            f"{MAX_QUESTION_CHARS:,}. Ask a shorter question."
        )
    if not 1 <= k <= MAX_K:
        raise QuestionError(f"k = {k} is out of range: choose between 1 and {MAX_K} passages.")
    return question


def current_index(settings: Settings) -> LoadedIndex:
    """The open index for `settings.index`, reopened if a newer generation was published."""
    key = settings.index.resolve()
    manifest = read_manifest(settings.index)
    with _CACHE_LOCK:
        current = _CACHE.get(key)
        stale = (
            current is None
            or manifest is None
            or current.generation != manifest.generation
            or current.settings != settings
        )
        if stale:
            _CACHE[key] = open_index(settings)
        return _CACHE[key]


def reading(settings: Settings, read: Callable[[LoadedIndex], T]) -> T:
    """`read(index)` on the current index, retried on a freshly opened one when the
    generation it was reading has been replaced and deleted meanwhile (an update keeps
    only the generation before it, so quick updates can remove one still in use)."""
    for _ in range(READ_ATTEMPTS - 1):
        index = current_index(settings)
        try:
            return read(index)
        except sqlite3.OperationalError:
            with _CACHE_LOCK:
                if _CACHE.get(settings.index.resolve()) is index:
                    del _CACHE[settings.index.resolve()]
    return read(current_index(settings))


def answer(
    question: str,
    settings: Settings | None = None,
    k: int | None = None,
    *,
    history: list[str] | None = None,
    mode: str | None = None,
) -> Answer:
    """Answer one question from the index named by `settings` (defaults + RAG_* env).

    `history` lists the earlier questions of a conversation, oldest first; a follow-up
    ("When was that?") is then searched with the topic of the previous question, and
    `Answer.searched` says what was actually searched. `mode` ("extractive", "llm" or
    "auto") overrides `settings.answer_mode`; in LLM mode every sentence is checked
    against its citation and `Answer.mode` / `Answer.note` say what was actually done.
    """
    from .followup import contextualize
    from .llm import resolve_mode

    settings = settings or Settings.load()
    k = settings.k if k is None else k
    question = check_question(question, k)
    searched = contextualize(question, history) if history else question
    if len(searched) > MAX_QUESTION_CHARS:
        searched = question
    if resolve_mode(settings, mode) == "llm":
        from .llm import answer_with_llm

        result = reading(settings, lambda ix: answer_with_llm(ix, searched, k, settings=settings))
    else:
        result = reading(settings, lambda ix: answer_question(ix, searched, k))
        if searched != question and _repeats(result, settings, k, history or []):
            result.note = " ".join(filter(None, [NOTHING_NEW, result.note]))
    result.question, result.searched = question, searched
    return result


def _repeats(result: Answer, settings: Settings, k: int, history: list[str]) -> bool:
    """True when a follow-up's answering quote (its first) is one the previous question's
    answer already quoted: what else joins it does not make the answer new."""
    from .followup import contextualize

    if result.abstained or not history:
        return False
    previous = contextualize(history[-1], history[:-1])
    before = reading(settings, lambda ix: answer_question(ix, previous, k))
    seen = {(c.doc_id, c.start, c.end) for c in before.citations}
    first = result.citations[0] if result.citations else None
    return first is not None and (first.doc_id, first.start, first.end) in seen


def has_index(settings: Settings) -> bool:
    """True when `settings.index` holds a published index (it may still fail to open)."""
    return read_manifest(settings.index) is not None


def index(
    settings: Settings | None = None, *, rebuild: bool = False, progress: Progress | None = None
) -> IndexReport:
    """Build or update the index from `settings.sources`, after undoing (and reporting in
    `skipped`) any upload a killed run left unindexed."""
    settings = settings or Settings.load()
    check_sources_folder(settings.sources)  # before creating an index folder for a wrong path
    settings.index.mkdir(parents=True, exist_ok=True)
    with lock(settings.index):  # no upload can start between the recovery and the run
        undone = recover(settings)
        report = build_index(settings, rebuild=rebuild, progress=progress)
    report.skipped = undone + report.skipped
    return report


def documents(settings: Settings) -> list[dict]:
    """The indexed articles: doc_id, source, title, publisher, date, url, added_at, chunks."""
    return reading(settings, lambda ix: ix.list_documents())


def document(settings: Settings, doc_id: str) -> dict | None:
    """One article's metadata and its whole cleaned text (citation offsets point into it)."""
    return reading(settings, lambda ix: ix.document_by_doc_id(doc_id))


def remove_source(
    settings: Settings, source: str, *, progress: Progress | None = None
) -> IndexReport:
    """Move one source file (and its sidecar) to the trash folder and re-index.

    Nothing is unlinked: the file can be put back from `trash_folder(settings)` for
    `rag.trash.KEEP_DAYS` days. A file holding several articles (.jsonl) goes whole.
    """
    from .errors import SourceError
    from .trash import TRASH_FOLDER, move_to_trash

    root = settings.sources.resolve()
    given = root / source
    # The entry itself, not what a symlink named `source` points at: removing a link
    # must not trash the article it links to.
    path = given.parent.resolve() / given.name
    if (
        given.name in ("", ".", "..")
        or root not in path.parents
        or not path.is_file()
        or root not in path.resolve().parents
        or TRASH_FOLDER in path.relative_to(root).parts
    ):
        raise SourceError(source, "not a file in the sources folder")
    move_to_trash(root, path)
    return index(settings, progress=progress)


def trash_folder(settings: Settings) -> Path:
    """Where removed source files are kept (`rag.trash.KEEP_DAYS` days) before purging."""
    from .trash import trash_folder as folder

    return folder(settings.sources)


def supported_suffixes() -> tuple[str, ...]:
    """The file name endings the sources folder accepts (".txt", ".pdf", ...), lower case."""
    from .formats import supported

    return supported()
