"""Publishing index generations: the crash-safe write protocol and the writer lock.

A generation is a folder `INDEX/gen-NNNNNN/` holding `rag.sqlite` and `vectors.faiss`; it
is prepared in `INDEX/.gen-NNNNNN.tmp/` and then `publish`ed: every file and the folder are
fsynced, the folder is renamed into place, and only then is the manifest swapped
(`write_atomic`: temp file + fsync + rename + fsync of the folder). A run killed at any
moment leaves the old or the new generation current, never a mix; what it leaves
behind (a temp folder, a renamed but unpublished generation, the manifest temp file) is
removed by the next writer, which holds `lock(index_dir)`. What goes into a generation
is rag/indexing.py's business, what the manifest says rag/manifest.py's.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .manifest import (
    DB_FILE,
    MANIFEST,
    VECTORS_FILE,
    FileSum,
    Manifest,
    Shape,
    file_sha256,
    read_manifest,
)


def publish(
    index_dir: Path,
    work: Path,
    generation: str,
    shape: Shape,
    counts: dict[str, int],
    vectors_kind: str,
    vectors_params: dict[str, Any] | None = None,
) -> Manifest:
    """Make the prepared folder `work` the current generation `generation` of `index_dir`."""
    files = {}
    for name in (DB_FILE, VECTORS_FILE):
        fsync(work / name)
        files[name] = FileSum(file_sha256(work / name), (work / name).stat().st_size)
    fsync(work)
    os.replace(work, index_dir / generation)
    fsync(index_dir)
    manifest = Manifest(
        generation=generation,
        shape=shape,
        counts=counts,
        files=files,
        vectors_kind=vectors_kind,
        vectors_params=vectors_params or {},
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    write_atomic(index_dir / MANIFEST, manifest.encode())
    return manifest


def write_atomic(path: Path, data: bytes) -> None:
    """Write `path` so that readers see the old or the new content, never a part."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync(path.parent)


def next_generation(index_dir: Path) -> str:
    """The folder name after the highest `gen-N` present (published or not)."""
    numbers = [int(p.name.split("-")[1]) for p in index_dir.glob("gen-*") if p.name[4:].isdigit()]
    return f"gen-{max(numbers, default=0) + 1:06d}"


def work_folder(index_dir: Path, generation: str) -> Path:
    """Where `generation` is prepared before `publish` renames it into place."""
    return index_dir / f".{generation}.tmp"


def remove_leftovers(index_dir: Path) -> None:
    """Delete half-built generations that a killed run left behind (hold the lock)."""
    for tmp in index_dir.glob(".gen-*.tmp"):
        shutil.rmtree(tmp, ignore_errors=True)


def drop_unpublished(index_dir: Path, generation: str) -> None:
    """Delete `generation` if a failed run renamed it into place but never published it."""
    with contextlib.suppress(Exception):
        manifest = read_manifest(index_dir)
        if manifest is None or manifest.generation != generation:
            shutil.rmtree(index_dir / generation, ignore_errors=True)
        (index_dir / f".{MANIFEST}.tmp").unlink(missing_ok=True)


def prune(index_dir: Path, keep: set[str]) -> None:
    """Delete every generation but `keep` (the new one, and the one it replaced: an app
    may still be reading that)."""
    for old in index_dir.glob("gen-*"):
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)


def fsync(path: Path) -> None:
    """Flush a file's or a folder's contents (a folder: its entries) to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def lock(index_dir: Path) -> Iterator[None]:
    """One writer at a time per index folder (other processes and threads wait).

    Reentrant within a thread: an upload holds it from copying its files to indexing them
    (a second flock on a new descriptor would wait for the first forever).
    """
    import fcntl

    key = index_dir.resolve()
    with _THREAD_LOCK:
        if key in _HELD:  # only the thread holding _THREAD_LOCK can have entries here
            yield
            return
        with (index_dir / ".lock").open("a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            _HELD.add(key)
            try:
                yield
            finally:
                _HELD.discard(key)
                fcntl.flock(f, fcntl.LOCK_UN)


_THREAD_LOCK = threading.RLock()
_HELD: set[Path] = set()  # index folders whose flock this process holds
