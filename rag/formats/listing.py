"""Which files of a sources folder to read, and which entries had to be skipped and why.

`list_sources(root)` walks the folder (without recursion, so deep trees are fine) and
returns the readable files of a supported type plus (relative path, reason) for entries
it skipped: broken symlinks, symlinks leading outside the folder, symlinked folders (not
followed), unreadable or special files, sidecars without their source file.
`check_sources_folder(root)` refuses a root that is missing or not a folder.

Left out: reading the files (`source.read_source`), and hidden entries and unsupported
extensions, which are passed over silently.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from rag.errors import SourceError

from .files import os_reason
from .metadata import SIDECAR_SUFFIX
from .registry import supported


def check_sources_folder(root: Path) -> None:
    """Raise `SourceError` unless `root` is a folder that can be listed."""
    try:
        root_stat = root.stat()
    except FileNotFoundError:
        raise SourceError(str(root), "folder not found") from None
    except OSError as err:
        raise SourceError(str(root), os_reason(err)) from None
    if not stat.S_ISDIR(root_stat.st_mode):
        raise SourceError(str(root), "not a folder (give the folder that holds the sources)")


def list_sources(root: Path) -> tuple[list[Path], list[tuple[str, str]]]:
    """Every readable supported file under `root`, plus (relative path, reason) for skipped ones.

    Hidden entries, sidecars and unsupported extensions are ignored silently; broken symlinks,
    symlinks leading outside `root`, symlinked folders (not followed), unreadable entries and
    sidecars without a source file are reported. Both lists are sorted by relative POSIX path.
    """
    root = Path(root)
    check_sources_folder(root)
    suffixes = supported()
    real_root = root.resolve()

    found: list[tuple[str, Path]] = []
    problems: list[tuple[str, str]] = []
    stack: list[tuple[Path, str]] = [(root, "")]  # explicit stack: deep trees must not recurse
    while stack:
        folder, prefix = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError as err:
            problems.append((prefix.rstrip("/") or ".", f"cannot open folder: {os_reason(err)}"))
            continue
        names = {entry.name for entry in entries}
        for entry in entries:
            name, rel, path = entry.name, prefix + entry.name, Path(entry.path)
            if name.startswith("."):
                continue
            try:
                if entry.is_symlink():
                    try:
                        target = path.resolve(strict=True)
                    except (OSError, RuntimeError):  # missing target or a symlink loop
                        problems.append((rel, "broken symlink"))
                        continue
                    if not target.is_relative_to(real_root):
                        problems.append((rel, "symlink points outside the sources folder"))
                        continue
                    if target.is_dir():
                        # Its files are listed at their real place; following would duplicate
                        # them or loop.
                        problems.append((rel, "symlink to a folder (not followed)"))
                        continue
                elif entry.is_dir(follow_symlinks=False):
                    stack.append((path, rel + "/"))
                    continue
                if name.endswith(SIDECAR_SUFFIX):
                    owner = name[: -len(SIDECAR_SUFFIX)]
                    if owner not in names:
                        problems.append((rel, f"sidecar without its source file {owner!r}"))
                    continue
                if path.suffix.lower() not in suffixes:
                    continue
                if not entry.is_file():  # FIFOs, sockets, devices: opening one could block
                    problems.append((rel, "not a regular file"))
                elif not os.access(path, os.R_OK):
                    problems.append((rel, "permission denied"))
                else:
                    found.append((rel, path))
            except OSError as err:
                problems.append((rel, os_reason(err)))
    found.sort(key=lambda item: item[0])
    problems.sort()
    return [path for _, path in found], problems
