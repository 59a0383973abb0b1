"""The one exception tree of `rag`.

Every message is written for the person at the keyboard: it names the file, folder or
setting at fault and says what to do. The CLI and the UI print `str(error)` and nothing
else, so a message must stand on its own. Nothing here imports anything heavy.
"""

from __future__ import annotations


class RagError(Exception):
    """Base of every error `rag` raises on purpose."""


class SettingsError(RagError):
    """A setting, CLI flag or `RAG_*` environment variable has a bad value."""


class SourceError(RagError):
    """One source file cannot be read; indexing skips it and reports this message."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class IndexError_(RagError):  # trailing underscore: do not shadow the builtin IndexError
    """Base for problems with the built index."""


class IndexMissingError(IndexError_):
    """There is no index where one was expected."""


class IndexMismatchError(IndexError_):
    """The index was built with other settings, another model or another format."""


class IndexCorruptError(IndexError_):
    """The index files fail their checksums or disagree with each other."""


class ModelError(RagError):
    """The embedding model cannot be found or loaded."""


class QuestionFileError(RagError):
    """A question file for `rag eval` is malformed."""


class QuestionError(RagError):
    """A question (or its k) is empty, too long or out of range."""


class SaveError(RagError):
    """A conversation or the app's settings cannot be written (disk full, no permission);
    the file saved before is unchanged."""

    def __init__(self, what: str, reason: str, folder: object) -> None:
        super().__init__(f"{what[:1].upper()}{what[1:]} could not be saved: {reason} ({folder}).")
        self.what = what
        self.reason = reason
        self.folder = str(folder)


__all__ = [
    "IndexCorruptError",
    "IndexError_",
    "IndexMismatchError",
    "IndexMissingError",
    "ModelError",
    "QuestionError",
    "QuestionFileError",
    "RagError",
    "SaveError",
    "SettingsError",
    "SourceError",
]
