"""SQLite storage: source files, documents, chunks, sentences and the FTS5 (BM25) table.

One `Store` wraps one database file of one index generation. Chunk row ids are the FAISS
vector ids. Writers use WAL with `synchronous=FULL`; a published generation is never
written again, so readers open it `immutable` (no locks, no -wal/-shm files) with one
connection per thread. This module knows nothing of embeddings beyond storing sentence
vectors as float16 blobs, and nothing of FAISS.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .lexical import is_word
from .types import Document, Span

if TYPE_CHECKING:
    import numpy as np

# Most chunk rows one question may make FTS5 rank (see `Store.bm25`): about 2 ms.
BM25_MAX_ROWS = 2000

SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    source TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, sha256 TEXT, added_at TEXT,
    error TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY, doc_id TEXT UNIQUE NOT NULL, source TEXT NOT NULL,
    title TEXT, publisher TEXT, author TEXT, date TEXT, url TEXT,
    raw_text TEXT NOT NULL, clean_text TEXT NOT NULL, spans TEXT NOT NULL,
    pages TEXT NOT NULL, extra TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_source ON documents(source);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY, doc INTEGER NOT NULL REFERENCES documents(id),
    ordinal INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL, text TEXT NOT NULL,
    first_sentence INTEGER NOT NULL, last_sentence INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc);
CREATE TABLE IF NOT EXISTS sentences (
    id INTEGER PRIMARY KEY, doc INTEGER NOT NULL REFERENCES documents(id),
    start INTEGER NOT NULL, end INTEGER NOT NULL, vector BLOB
);
CREATE INDEX IF NOT EXISTS sentences_doc ON sentences(doc);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    text, content='chunks', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2'
);
"""


@dataclass
class FileRecord:
    size: int
    mtime_ns: int
    sha256: str
    error: str
    documents: int


@dataclass
class StoredChunk:
    id: int
    doc: int
    text: str
    start: int
    end: int
    first_sentence: int
    last_sentence: int


class Store:
    """A SQLite database of one index generation."""

    def __init__(self, path: Path, *, readonly: bool) -> None:
        self.path, self.readonly = path, readonly
        self._chunk_count: int | None = None
        self._local = threading.local()
        if not readonly:
            con = self.con
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=FULL")
            con.executescript(SCHEMA)

    @property
    def con(self) -> sqlite3.Connection:
        """This thread's connection (SQLite connections must not cross threads)."""
        con = getattr(self._local, "con", None)
        if con is None:
            if self.readonly:
                uri = f"{self.path.resolve().as_uri()}?mode=ro&immutable=1"
                con = sqlite3.connect(uri, uri=True, check_same_thread=False)
            else:
                con = sqlite3.connect(self.path, check_same_thread=False)
            self._local.con = con
        return con

    def close(self) -> None:
        con = getattr(self._local, "con", None)
        if con is not None:
            if not self.readonly:
                con.commit()
                con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                con.execute("PRAGMA journal_mode=DELETE")  # fold the WAL into one file
            con.close()
            self._local.con = None

    # -- writing ---------------------------------------------------------------------

    def files(self) -> dict[str, FileRecord]:
        rows = self.con.execute(
            "SELECT f.source, f.size, f.mtime_ns, f.sha256, f.error, "
            "(SELECT COUNT(*) FROM documents d WHERE d.source = f.source) FROM files f"
        )
        return {row[0]: FileRecord(*row[1:]) for row in rows}

    def put_file(
        self, source: str, size: int, mtime_ns: int, sha256: str, added_at: str, error: str = ""
    ) -> None:
        """Record a source file's state; `error` is why it could not be read, if it could not."""
        self.con.execute(
            "INSERT INTO files VALUES (?,?,?,?,?,?) ON CONFLICT(source) DO UPDATE SET "
            "size=excluded.size, mtime_ns=excluded.mtime_ns, sha256=excluded.sha256, "
            "error=excluded.error",
            (source, size, mtime_ns, sha256, added_at, error),
        )

    def remove_source(self, source: str) -> list[int]:
        """Delete a source file's documents, chunks and sentences; return the chunk ids."""
        con = self.con
        docs = [r[0] for r in con.execute("SELECT id FROM documents WHERE source=?", (source,))]
        chunk_ids: list[int] = []
        for doc in docs:
            rows = con.execute("SELECT id, text FROM chunks WHERE doc=?", (doc,)).fetchall()
            con.executemany(
                "INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES('delete', ?, ?)", rows
            )
            chunk_ids += [r[0] for r in rows]
            con.execute("DELETE FROM chunks WHERE doc=?", (doc,))
            con.execute("DELETE FROM sentences WHERE doc=?", (doc,))
            con.execute("DELETE FROM documents WHERE id=?", (doc,))
        con.execute("DELETE FROM files WHERE source=?", (source,))
        return chunk_ids

    def add_document(self, doc: Document, clean_text: str, spans: list[Span]) -> int:
        cur = self.con.execute(
            "INSERT INTO documents (doc_id, source, title, publisher, author, date, url, "
            "raw_text, clean_text, spans, pages, extra) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                doc.doc_id,
                doc.source,
                doc.title,
                doc.publisher,
                doc.author,
                doc.date,
                doc.url,
                doc.text,
                clean_text,
                json.dumps([(s.clean_start, s.raw_start, s.length) for s in spans]),
                json.dumps(doc.pages),
                json.dumps(doc.extra, default=str),
            ),
        )
        return int(cur.lastrowid or 0)

    def add_sentences(self, doc: int, spans: list[tuple[int, int]]) -> list[int]:
        return [
            int(
                self.con.execute(
                    "INSERT INTO sentences (doc, start, end) VALUES (?,?,?)", (doc, a, b)
                ).lastrowid
                or 0
            )
            for a, b in spans
        ]

    def add_chunk(
        self,
        doc: int,
        ordinal: int,
        start: int,
        end: int,
        text: str,
        first_sentence: int,
        last_sentence: int,
    ) -> int:
        cur = self.con.execute(
            "INSERT INTO chunks (doc, ordinal, start, end, text, first_sentence, last_sentence) "
            "VALUES (?,?,?,?,?,?,?)",
            (doc, ordinal, start, end, text, first_sentence, last_sentence),
        )
        chunk_id = int(cur.lastrowid or 0)
        self.con.execute("INSERT INTO chunks_fts(rowid, text) VALUES (?, ?)", (chunk_id, text))
        return chunk_id

    def set_sentence_vectors(self, ids: list[int], vectors: np.ndarray) -> None:
        self.con.executemany(
            "UPDATE sentences SET vector=? WHERE id=?",
            [(vec.astype("float16").tobytes(), i) for i, vec in zip(ids, vectors, strict=True)],
        )

    def commit(self) -> None:
        self.con.commit()

    # -- reading ---------------------------------------------------------------------

    def count(self, table: str) -> int:
        assert table in {"files", "documents", "chunks", "sentences"}
        return int(self.con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    def chunk_ids(self) -> list[int]:
        return [r[0] for r in self.con.execute("SELECT id FROM chunks ORDER BY id")]

    def bm25(self, question: str, limit: int) -> list[tuple[int, float]]:
        """(chunk id, score) best first; score is -bm25 so that larger is better.

        FTS5 ranks every row that matches any question word, at about a microsecond per
        row, so in a big index a common word ("Taliban" in a Taliban corpus) would cost
        tens of milliseconds while adding little. Above `BM25_MAX_ROWS` chunks, the
        question's words are counted (each only up to that budget) and only the rarest,
        whose counts sum to at most the budget, are ranked; a word in more chunks than the
        budget is left to the dense retriever. Smaller indexes rank every word.
        """
        words = sorted({w for w in re.findall(r"\w+", question.lower()) if is_word(w)})
        if self.chunk_count() > BM25_MAX_ROWS:
            words = self._rarest(words, BM25_MAX_ROWS)
        if not words:
            return []
        query = " OR ".join(f'"{w}"' for w in words)
        rows = self.con.execute(
            "SELECT rowid, bm25(chunks_fts) FROM chunks_fts WHERE chunks_fts MATCH ? "
            "ORDER BY bm25(chunks_fts) LIMIT ?",
            (query, limit),
        )
        return [(int(rowid), -float(score)) for rowid, score in rows]

    def _rarest(self, words: list[str], budget: int) -> list[str]:
        """The rarest of `words` whose chunk counts sum to at most `budget`."""
        counts = {}
        for w in words:  # counting stops at the budget, so a common word costs no more
            (n,) = self.con.execute(
                "SELECT COUNT(*) FROM (SELECT 1 FROM chunks_fts WHERE chunks_fts MATCH ? LIMIT ?)",
                (f'"{w}"', budget + 1),
            ).fetchone()
            if 0 < n <= budget:
                counts[w] = n
        kept, total = [], 0
        for w in sorted(counts, key=lambda w: (counts[w], w)):
            if total + counts[w] > budget:
                break
            kept.append(w)
            total += counts[w]
        return kept

    def chunk_count(self) -> int:
        """Chunk rows; cached for a read-only (published, never changing) generation."""
        if self.readonly and self._chunk_count is not None:
            return self._chunk_count
        self._chunk_count = self.count("chunks")
        return self._chunk_count

    def chunks(self, ids: Iterable[int]) -> dict[int, StoredChunk]:
        ids = list(ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.con.execute(
            f"SELECT id, doc, text, start, end, first_sentence, last_sentence FROM chunks "
            f"WHERE id IN ({marks})",
            ids,
        )
        return {r[0]: StoredChunk(*r) for r in rows}

    def sentences(self, ranges: list[tuple[int, int]]) -> dict[int, tuple[int, int, bytes | None]]:
        """(start, end, float16 vector bytes) by id, for the sentence ids in the inclusive
        `ranges`, in one query (retrieval asks for every candidate chunk's sentences)."""
        ids = sorted({i for first, last in ranges for i in range(first, last + 1)})
        rows: dict[int, tuple[int, int, bytes | None]] = {}
        for at in range(0, len(ids), 30_000):  # stay under SQLite's bound-parameter limit
            part = ids[at : at + 30_000]
            marks = ",".join("?" * len(part))
            for i, start, end, blob in self.con.execute(
                f"SELECT id, start, end, vector FROM sentences WHERE id IN ({marks})", part
            ):
                rows[i] = (start, end, blob)
        return rows

    def document(self, doc: int) -> dict[str, Any]:
        row = self.con.execute(
            "SELECT id, doc_id, source, title, publisher, author, date, url, clean_text "
            "FROM documents WHERE id=?",
            (doc,),
        ).fetchone()
        keys = ("id", "doc_id", "source", "title", "publisher", "author", "date", "url", "text")
        return dict(zip(keys, row, strict=True))

    def document_by_doc_id(self, doc_id: str) -> dict[str, Any] | None:
        row = self.con.execute("SELECT id FROM documents WHERE doc_id=?", (doc_id,)).fetchone()
        return self.document(row[0]) if row else None

    def list_documents(self) -> list[dict[str, Any]]:
        rows = self.con.execute(
            "SELECT d.id, d.doc_id, d.source, d.title, d.publisher, d.date, d.url, f.added_at, "
            "(SELECT COUNT(*) FROM chunks c WHERE c.doc = d.id) "
            "FROM documents d LEFT JOIN files f ON f.source = d.source ORDER BY d.doc_id"
        )
        keys = ("id", "doc_id", "source", "title", "publisher", "date", "url", "added_at", "chunks")
        return [dict(zip(keys, r, strict=True)) for r in rows]
