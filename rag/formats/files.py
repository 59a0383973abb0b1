"""Careful file access for the format readers: sizes checked before reading, bounded reads.

`check_file` refuses anything but a regular file within a size limit (before a byte is
read), `read_bytes` reads at most that limit (the file may grow meanwhile), `check_inside`
refuses a path that resolves outside the sources folder, `relpath` names a file the way
every message and document id does (relative to the sources folder, POSIX slashes), and
`os_reason` / `size` put OS errors and byte counts into plain words.

Left out: decoding (`decode`), listing folders (`listing`) and any format knowledge.
"""

from __future__ import annotations

import stat
from pathlib import Path

from rag.errors import SourceError


def check_file(path: Path, rel: str, limit: int) -> int:
    """The size of regular file `path`, checked against `limit` before anything is read."""
    try:
        info = path.stat()
    except OSError as err:
        raise SourceError(rel, os_reason(err)) from None
    if not stat.S_ISREG(info.st_mode):
        raise SourceError(rel, "not a regular file")
    if info.st_size > limit:
        raise SourceError(rel, f"file too large ({size(info.st_size)} > {size(limit)} limit)")
    return info.st_size


def read_bytes(path: Path, rel: str, limit: int) -> bytes:
    """The bytes of `path`; SourceError when there are more than `limit` of them."""
    try:
        with path.open("rb") as file:
            data = file.read(limit + 1)  # the file may have grown since stat()
    except OSError as err:
        raise SourceError(rel, os_reason(err)) from None
    if len(data) > limit:
        raise SourceError(rel, f"file too large (over {size(limit)} limit)")
    return data


def check_inside(path: Path, root: Path, rel: str) -> None:
    """SourceError unless `path` (symlinks resolved) lies inside the sources folder `root`."""
    try:
        inside = path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop on older Pythons
        inside = True  # let the open() that follows report the real problem
    if not inside:
        raise SourceError(rel, "symlink points outside the sources folder")


def relpath(path: Path, root: Path) -> str:
    """`path` relative to `root` as a POSIX path (as given when it is not under `root`)."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        pass
    try:
        return path.absolute().relative_to(root.absolute()).as_posix()
    except ValueError:
        return path.as_posix()


def os_reason(err: OSError) -> str:
    """What went wrong, in the OS's words (e.g. "Permission denied")."""
    return err.strerror or str(err) or type(err).__name__


def size(n: int) -> str:
    """`n` bytes for a message: "3 MB", "1.5 KB", "100 bytes"."""
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")
    if n >= 1024:
        return f"{n / 1024:.1f} KB".replace(".0 KB", " KB")
    return f"{n} bytes"
