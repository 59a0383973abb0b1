"""Uploads into the sources folder: checked, copied whole, indexed, or undone and reported.

`add_sources(settings, files, inside=...)` refuses unsupported names, files over
`MAX_UPLOAD_BYTES`, and (with `inside`, the web app's upload folder) anything that is not a
regular file inside that folder: a symlink, or a path elsewhere on the machine. It reads
each accepted file once, writes the copy under a hidden temporary name in the sources
folder (the listing ignores dot names), fsyncs it and renames it into place, so a full disk
leaves no truncated article; on any write error every copy of the call is removed and a
`RagError` says what happened. It then indexes. Files the index cannot read are not kept;
when the index run fails, no copy of the call is kept.

From the moment its names are chosen until its index run is published, an upload is
recorded in `SOURCES/.pending-uploads.json`, and the index writer lock is held throughout.
A record found later (`recover`, run before every index run and when the app starts) is an
upload that was killed: a copy the index holds is finished and kept; one it does not hold
goes to the trash folder and is reported, so nothing enters the library unannounced and
nothing is lost.

Left out: reading and indexing the files (`rag.indexing`), and the trash (`rag.trash`).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from .errors import RagError
from .formats import supported
from .formats.files import os_reason, size
from .indexing import DB_FILE, IndexReport, Progress, build_index, read_manifest
from .publish import fsync, lock, write_atomic
from .settings import Settings

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
PENDING = ".pending-uploads.json"
TEMP_PREFIX = ".upload-"  # a dot name: the source listing never reads a half-written copy
NOT_UPLOADED = "not a file the app received (only uploaded files can be added)"
SYMLINK = "a symbolic link, not an uploaded file"
INTERRUPTED = (
    "its upload was interrupted before it was indexed; moved to the trash folder {trash} "
    "(upload it again to add it)"
)


@dataclass
class _Upload:
    name: str  # the name it was uploaded under
    data: bytes
    sha256: str
    target: Path | None = None  # where it goes in the sources folder
    new: bool = False  # False: an identical file is there already


def add_sources(
    settings: Settings,
    files: list[Path],
    *,
    inside: Path | None = None,
    progress: Progress | None = None,
) -> IndexReport:
    """Copy files into the sources folder and index them; unsupported names are refused.

    Files over `MAX_UPLOAD_BYTES` are refused; with `inside` (the web app's upload folder),
    so is anything but a regular file in that folder (a symlink, a path elsewhere). A file
    whose name is taken by a different file gets a numbered name instead of overwriting
    it. A copy is written whole or not at all (a full disk raises `RagError` and adds
    nothing); a copy that cannot be indexed is not kept, and none is when the index run
    fails (the files copied from are untouched). An upload killed before its index run was
    published is undone by the next index run, which reports it (`recover`). Returns the
    index report: `skipped` names files that failed, `warnings` the parts skipped.
    """
    settings.sources.mkdir(parents=True, exist_ok=True)
    settings.index.mkdir(parents=True, exist_ok=True)
    refused: list[tuple[str, str]] = []
    copies: list[_Upload] = []
    with lock(settings.index):
        recovered = recover(settings)
        try:
            for path in map(Path, files):
                try:
                    upload = _read(path, inside)
                except _Refused as e:
                    refused.append((path.name, str(e)))
                    continue
                _choose_target(settings.sources, upload)
                if upload.new:
                    copies.append(upload)
                    _record(settings.sources, copies)  # before the copy: a kill may follow
                    _copy(settings.sources, upload)
                upload.data = b""  # one file's bytes in memory at a time
        except BaseException:
            _undo(settings.sources, copies)
            raise
        try:
            report = build_index(settings, progress=progress)
        except BaseException as e:
            _undo(settings.sources, copies)
            if isinstance(e, RagError) and copies:
                names = ", ".join(u.target.name for u in copies if u.target)
                raise RagError(f"{e} Not kept in the sources folder: {names}.") from e
            raise
        made = {u.target.name: u.target for u in copies if u.target}
        for source, _ in report.skipped:
            if source in made:  # only copies made just now: a file already there stays
                made[source].unlink(missing_ok=True)
        _forget(settings.sources)
    report.skipped = [
        (s, f"{r}; not kept in the sources folder" if s in made else r) for s, r in report.skipped
    ]
    report.skipped = refused + recovered + report.skipped
    return report


def recover(settings: Settings) -> list[tuple[str, str]]:
    """Finish or undo uploads a killed run left behind: (file, what happened) per undone one.

    A copy the published index holds stays; one it does not hold goes to the trash folder.
    """
    from .trash import move_to_trash

    sources = settings.sources
    if not (sources / PENDING).exists() and not any(sources.glob(TEMP_PREFIX + "*")):
        return []
    settings.index.mkdir(parents=True, exist_ok=True)
    with lock(settings.index):
        for leftover in sources.glob(TEMP_PREFIX + "*"):  # a copy killed before its rename
            leftover.unlink(missing_ok=True)
        try:
            pending = json.loads((sources / PENDING).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError):
            pending = []  # a record cut short: its rename never happened, so no copy did
        indexed = _indexed(settings)
        undone = []
        for entry in pending if isinstance(pending, list) else []:
            if not isinstance(entry, dict):
                continue
            name, sha = str(entry.get("name", "")), str(entry.get("sha256", ""))
            path = sources / name
            if not name or "/" in name or name.startswith("."):
                continue
            if indexed.get(name) == sha or not _holds(path, sha):
                continue  # finished before the kill, or no longer our copy
            trashed = move_to_trash(sources, path)
            undone.append((name, INTERRUPTED.format(trash=trashed.parent)))
        _forget(sources)
    return undone


class _Refused(Exception):
    """A file that is not added; its message is the reason shown to the user."""


def _read(path: Path, inside: Path | None) -> _Upload:
    """The file's bytes, read once (so what was checked is what is copied)."""
    name = path.name
    suffixes = supported()
    if not name.lower().endswith(suffixes) or name.startswith("."):
        raise _Refused(f"unsupported file type (use {' '.join(suffixes)})")
    flags = os.O_RDONLY
    if inside is not None:
        try:
            folder = path.parent.resolve(strict=True)
        except (OSError, RuntimeError):
            raise _Refused(NOT_UPLOADED) from None
        if not folder.is_relative_to(inside.resolve()):
            raise _Refused(NOT_UPLOADED)
        flags |= os.O_NOFOLLOW  # a symlink in the upload folder must not lead out of it
    try:
        fd = os.open(path, flags | os.O_NONBLOCK)  # O_NONBLOCK: a FIFO must not hang us
    except OSError as err:
        if inside is not None and path.is_symlink():
            raise _Refused(SYMLINK) from None
        raise _Refused(os_reason(err)) from None
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise _Refused("not a regular file")
        limit = f"{size(MAX_UPLOAD_BYTES)} upload limit"
        if info.st_size > MAX_UPLOAD_BYTES:
            raise _Refused(f"file too large ({size(info.st_size)} > {limit})")
        data = file.read(MAX_UPLOAD_BYTES + 1)  # it may have grown since fstat
    if len(data) > MAX_UPLOAD_BYTES:
        raise _Refused(f"file too large (over {limit})")
    return _Upload(name, data, _sha256(data))


def _choose_target(sources: Path, upload: _Upload) -> None:
    """The name `upload` gets: its own, or `stem-N` when a different file holds that name."""
    target = sources / upload.name
    stem, suffix = target.name[: -len(target.suffix)], target.suffix
    n = 1
    while os.path.lexists(target) and not _holds(target, upload.sha256):
        target = sources / f"{stem}-{n}{suffix}"
        n += 1
    upload.target, upload.new = target, not os.path.lexists(target)


def _holds(path: Path, sha256: str) -> bool:
    """Whether `path` is a regular file (not a link) with exactly these contents."""
    try:
        return path.is_file() and not path.is_symlink() and _sha256(path.read_bytes()) == sha256
    except OSError:
        return False


def _copy(sources: Path, upload: _Upload) -> None:
    """Write the copy under a hidden name, fsync it, rename it into place; or raise."""
    assert upload.target is not None
    tmp = sources / f"{TEMP_PREFIX}{secrets.token_hex(8)}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            rest = memoryview(upload.data)
            while rest:
                rest = rest[os.write(fd, rest) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, upload.target)
        fsync(sources)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise RagError(
            f"{os_reason(err)} while copying {upload.name} into the sources folder "
            f"{sources}; nothing was added."
        ) from err


def _undo(sources: Path, copies: list[_Upload]) -> None:
    """Remove every copy this upload made (the uploaded files themselves are untouched)."""
    for upload in copies:
        if upload.target is not None:
            upload.target.unlink(missing_ok=True)
    _forget(sources)


def _record(sources: Path, copies: list[_Upload]) -> None:
    entries = [{"name": u.target.name, "sha256": u.sha256} for u in copies if u.target]
    if entries:
        write_atomic(sources / PENDING, json.dumps(entries).encode())


def _forget(sources: Path) -> None:
    if (sources / PENDING).exists():
        (sources / PENDING).unlink()
        fsync(sources)  # a record that came back after a power cut would undo work


def _indexed(settings: Settings) -> dict[str, str]:
    """Source name -> SHA-256 of every file the published index has read."""
    from .store import Store

    try:
        manifest = read_manifest(settings.index)
        if manifest is None:
            return {}
        store = Store(settings.index / manifest.generation / DB_FILE, readonly=True)
    except (RagError, OSError):
        return {}  # no usable index: nothing was finished
    try:
        return {s: record.sha256 for s, record in store.files().items() if not record.error}
    finally:
        store.close()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
