"""Saved chat conversations and the chat app's settings, one JSON file each.

The chat app keeps every conversation (its answer objects, exactly as shown) in
`conversations_folder(settings)`: `settings.conversations` (`RAG_CONVERSATIONS`), or by
default the folder `conversations` beside the index folder, so a reload or a restart of
the app reopens them and the index can be rebuilt without losing them. Files are written
atomically (a temporary file, then a rename). Conversation ids are random hex, checked
before any path is built from them. No Gradio here: `ui/` calls these.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from .settings import Settings

Json = dict[str, Any]
PREFERENCES = "preferences.json"
_ID = re.compile(r"^[0-9a-f]{32}$")
TITLE_CHARS = 80


def conversations_folder(settings: Settings) -> Path:
    """Where conversations are kept: RAG_CONVERSATIONS, else beside the index folder."""
    if settings.conversations:
        return Path(settings.conversations)
    return settings.index.resolve().parent / "conversations"


def new_id() -> str:
    return uuid.uuid4().hex


def _write(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False)
    os.replace(tmp, path)


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


class ConversationStore:
    """The conversations of one folder: list, load, save, delete; and the app settings."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def _path(self, conversation_id: str) -> Path | None:
        ok = isinstance(conversation_id, str) and _ID.match(conversation_id)
        return self.folder / f"{conversation_id}.json" if ok else None

    def save(self, conversation_id: str, turns: list[Json]) -> None:
        """Keep `turns` (answer objects, oldest first) as conversation `conversation_id`."""
        path = self._path(conversation_id)
        if path is None or not turns:
            return
        old = _read(path) or {}
        title = str(turns[0].get("question", ""))[:TITLE_CHARS]
        _write(
            path,
            {
                "id": conversation_id,
                "title": title,
                "created": old.get("created", time.time()),
                "updated": time.time(),
                "turns": turns,
            },
        )

    def load(self, conversation_id: str) -> list[Json] | None:
        """The turns of a saved conversation, or None when there is no such conversation."""
        path = self._path(conversation_id)
        data = _read(path) if path else None
        turns = data.get("turns") if isinstance(data, dict) else None
        return [t for t in turns if isinstance(t, dict)] if isinstance(turns, list) else None

    def delete(self, conversation_id: str) -> bool:
        path = self._path(conversation_id)
        if path is None or not path.is_file():
            return False
        path.unlink()
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
        _write(self.folder / PREFERENCES, {**self.preferences(), **values})
