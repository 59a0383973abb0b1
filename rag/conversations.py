"""Saved chat conversations and the chat app's settings, one JSON file each.

The chat app keeps every conversation (its answer objects, exactly as shown) in
`conversations_folder(settings)`: `settings.conversations` (`RAG_CONVERSATIONS`), or by
default the folder `conversations` beside the index folder, so a reload or a restart of
the app reopens them and the index can be rebuilt without losing them. Files are written
atomically (a temporary file, fsync, then a rename; the temporary file is removed when
that fails) under one `fcntl` lock per folder, so two tabs (or two app processes) saving
at once never lose a turn: `save` merges the turns it is given into the saved ones by
`turn_id`. Conversation ids are random hex, checked before any path is built from them.
No Gradio here: `ui/` calls these.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import SaveError
from .settings import Settings

Json = dict[str, Any]
PREFERENCES = "preferences.json"
_ID = re.compile(r"^[0-9a-f]{32}$")
TITLE_CHARS = 80
CONVERSATION, SETTINGS = "the conversation", "the settings"  # what a SaveError names


def conversations_folder(settings: Settings) -> Path:
    """Where conversations are kept: RAG_CONVERSATIONS, else beside the index folder."""
    if settings.conversations:
        return Path(settings.conversations)
    return settings.index.resolve().parent / "conversations"


def new_id() -> str:
    return uuid.uuid4().hex


def turn_key(turn: Json) -> str:
    """What tells one saved turn from another: its `turn_id`, or (turns saved without one)
    a digest of its whole content, which the chat then keeps as the turn's id."""
    if turn.get("turn_id"):
        return str(turn["turn_id"])
    content = json.dumps(turn, sort_keys=True, ensure_ascii=False)
    return "content-" + hashlib.sha256(content.encode("utf-8")).hexdigest()


def _reason(error: OSError) -> str:
    """An OSError in words: "no space left on device", "permission denied", ..."""
    text = error.strerror or str(error)
    return text[:1].lower() + text[1:]


def _write(path: Path, data: Any, what: str) -> None:
    """Replace `path` by `data` as JSON, atomically; on failure nothing is left behind and
    a SaveError says what could not be saved, why and where."""
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False)
            f.flush()
            os.fsync(f.fileno())  # a full disk shows here, not after the rename
        os.replace(tmp, path)
    except OSError as e:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise SaveError(what, _reason(e), path.parent) from e


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _turns(data: Any) -> list[Json] | None:
    """The turns of a conversation file's content, or None when it holds none."""
    turns = data.get("turns") if isinstance(data, dict) else None
    return [t for t in turns if isinstance(t, dict)] if isinstance(turns, list) else None


class ConversationStore:
    """The conversations of one folder: list, load, save, delete; and the app settings."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    @contextlib.contextmanager
    def _locked(self, what: str) -> Iterator[None]:
        """One writer at a time in this folder, across threads and processes (each opens
        the lock file anew, so flock orders threads too): a save reads the file, merges
        and writes it back, which must not interleave with another save."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            f = (self.folder / ".lock").open("a")
        except OSError as e:
            raise SaveError(what, _reason(e), self.folder) from e
        with f:
            fcntl.flock(f, fcntl.LOCK_EX)
            yield  # closing the file releases the lock

    def _path(self, conversation_id: str) -> Path | None:
        ok = isinstance(conversation_id, str) and _ID.match(conversation_id)
        return self.folder / f"{conversation_id}.json" if ok else None

    def save(self, conversation_id: str, turns: list[Json]) -> list[Json]:
        """Add `turns` (answer objects, oldest first) to conversation `conversation_id` and
        return all its turns: the saved ones first (another tab may have added some), then
        those of `turns` not saved yet (by `turn_key`). Nothing saved is ever dropped.
        Raises SaveError when the file cannot be written (the saved file is unchanged)."""
        path = self._path(conversation_id)
        if path is None or not turns:
            return turns
        with self._locked(CONVERSATION):
            old = _read(path)
            old = old if isinstance(old, dict) else {}
            saved = _turns(old) or []
            keys = {turn_key(t) for t in saved}
            merged = [*saved, *(t for t in turns if turn_key(t) not in keys)]
            if merged == saved:
                return saved
            record = {
                "id": conversation_id,
                "title": str(merged[0].get("question", ""))[:TITLE_CHARS],
                "created": old.get("created", time.time()),
                "updated": time.time(),
                "turns": merged,
            }
            _write(path, record, CONVERSATION)
        return merged

    def load(self, conversation_id: str) -> list[Json] | None:
        """The turns of a saved conversation, or None when there is no such conversation."""
        path = self._path(conversation_id)
        return _turns(_read(path) if path else None)

    def delete(self, conversation_id: str) -> bool:
        path = self._path(conversation_id)
        if path is None or not path.is_file():
            return False
        with self._locked(CONVERSATION):
            path.unlink(missing_ok=True)
        return True

    def list(self) -> list[Json]:
        """Saved conversations, most recently updated first: id, title, updated, questions."""
        out = []
        for path in self.folder.glob("*.json") if self.folder.is_dir() else []:
            data = _read(path)
            if not isinstance(data, dict) or not _ID.match(path.stem):
                continue
            turns = data.get("turns")
            out.append(
                {
                    "id": path.stem,
                    "title": str(data.get("title") or "Untitled"),
                    "updated": float(data.get("updated") or 0),
                    "questions": len(turns) if isinstance(turns, list) else 0,
                }
            )
        return sorted(out, key=lambda c: -c["updated"])

    def preferences(self) -> Json:
        data = _read(self.folder / PREFERENCES)
        return data if isinstance(data, dict) else {}

    def save_preferences(self, **values: Any) -> None:
        with self._locked(SETTINGS):
            _write(self.folder / PREFERENCES, {**self.preferences(), **values}, SETTINGS)
