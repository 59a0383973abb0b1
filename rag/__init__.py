"""rag: offline, citation-first question answering over a folder of news articles.

    from rag import Settings, answer
    print(answer("When was the ban lifted?", Settings.load(index="index")).answer)

Importing `rag` is cheap: torch, faiss and the model load on first use.
"""

from .api import answer, check_question, index
from .errors import (
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
    ModelError,
    QuestionError,
    QuestionFileError,
    RagError,
    SettingsError,
    SourceError,
)
from .extractive import NOT_IN_SOURCES
from .indexing import IndexReport
from .settings import Settings
from .types import Answer, Chunk, Citation, CleanText, Document, Passage

__version__ = "0.1.0"

__all__ = [
    "NOT_IN_SOURCES",
    "Answer",
    "Chunk",
    "Citation",
    "CleanText",
    "Document",
    "IndexCorruptError",
    "IndexMismatchError",
    "IndexMissingError",
    "IndexReport",
    "ModelError",
    "Passage",
    "QuestionError",
    "QuestionFileError",
    "RagError",
    "Settings",
    "SettingsError",
    "SourceError",
    "answer",
    "check_question",
    "index",
]
