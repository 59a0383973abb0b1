"""The trash folder: removed source files are moved here, never unlinked.

`move_to_trash(sources, path)` moves a file of the sources folder (and its metadata
sidecar; a symlink moves as the link, never its target) to
`SOURCES/.trash/YYYYMMDD-HHMMSS/`, keeping its relative path, so it can be put back by
moving it again. The folder starts with a dot, so the indexer never reads it.
Batches older than `KEEP_DAYS` are purged when something new is trashed: what goes then
is only what the user removed, a month earlier.
"""

from __future__ import annotations

import calendar
import shutil
import time
from pathlib import Path

from .formats import SIDECAR_SUFFIX

TRASH_FOLDER = ".trash"
KEEP_DAYS = 30
_STAMP = "%Y%m%d-%H%M%S"


def trash_folder(sources: Path) -> Path:
    """Where removed files of `sources` go."""
    return sources / TRASH_FOLDER


def move_to_trash(sources: Path, path: Path, *, now: float | None = None) -> Path:
    """Move `path` (a file under `sources`) and its sidecar into the trash; returns the
    file's new place. Older batches past `KEEP_DAYS` are purged first."""
    now = time.time() if now is None else now
    purge(sources, now=now)
    # The entry itself (a symlink moves as a link; its target stays where it is).
    relative = (path.parent.resolve() / path.name).relative_to(sources.resolve())
    batch = trash_folder(sources) / time.strftime(_STAMP, time.gmtime(now))
    n = 1
    while (batch / relative).exists():  # two removals within one second
        batch = trash_folder(sources) / f"{time.strftime(_STAMP, time.gmtime(now))}-{n}"
        n += 1
    target = batch / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    shutil.move(path, target)
    if sidecar.is_file():
        shutil.move(sidecar, target.with_name(target.name + SIDECAR_SUFFIX))
    return target


def purge(sources: Path, *, now: float | None = None, keep_days: float = KEEP_DAYS) -> list[Path]:
    """Delete the trash batches trashed more than `keep_days` ago; returns them."""
    now = time.time() if now is None else now
    folder = trash_folder(sources)
    if not folder.is_dir():
        return []
    gone = []
    for batch in sorted(folder.iterdir()):
        try:
            trashed = calendar.timegm(time.strptime(batch.name[:15], _STAMP))
        except ValueError:
            continue  # not one of ours: leave it alone
        if batch.is_dir() and not batch.is_symlink() and now - trashed > keep_days * 86400:
            shutil.rmtree(batch)
            gone.append(batch)
    return gone
