"""The Library tab's event handlers: list, upload, remove (after asking), re-index, read.

`Library(settings)` holds the handlers as methods; `ui.blocks` wires them. Removing asks
first and says exactly what goes: the file, and every article it holds (a .jsonl file
holds many, and goes whole). A removed file is moved to the trash folder
(`rag.api.trash_folder`), never unlinked. An upload that cannot be indexed is not kept.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

# ui/__init__.py (run before this module) has switched Gradio's analytics off already.
import gradio as gr

from rag import api as rag
from rag.errors import RagError
from rag.settings import Settings
from rag.trash import KEEP_DAYS

from . import render

Json = dict[str, Any]

CHOOSE_FIRST = "Choose an article to remove first."
REMOVE_ONE = (
    "Remove “{title}”? Its file <code>{file}</code> moves to the trash folder "
    "(<code>{trash}</code>, kept {days} days) and the article leaves the library."
)
REMOVE_MANY = (
    "“{title}” is one of <b>{count} articles</b> in the file <code>{file}</code>. "
    "Removing it removes <b>the whole file and all {count} articles</b>: the file moves to "
    "the trash folder (<code>{trash}</code>, kept {days} days)."
)
CHANGED = "{file} has changed since you chose it (it now holds {count} articles); choose again."
REMOVED = "Moved {file} ({count} article{s}) to the trash folder {trash}; kept {days} days."
FROM_LIBRARY = "From the library"


def progress_callback(progress: gr.Progress) -> Callable[[int, int, str], None]:
    """Indexing progress, in plain words, on Gradio's one progress bar."""

    def update(done: int, total: int, message: str) -> None:
        progress(done / total if total else None, desc=render.progress_words(done, total, message))

    return update


def same_file(source: str, name: str) -> bool:
    """True when an index report's `source` is the uploaded `name` (maybe renamed `stem-N`)."""
    stem, dot, suffix = name.rpartition(".")
    if source == name:
        return True
    if not dot or not source.startswith(stem + "-") or not source.endswith("." + suffix):
        return False
    return source[len(stem) + 1 : -len(suffix) - 1].isdigit()


class Library:
    """Handlers of the Library tab, bound to one app's settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def listing(self, query: str) -> tuple[str, Any]:
        """The table and the "remove" choices (one per article: title — file)."""
        try:
            docs = rag.documents(self.settings)
        except RagError as e:
            return render.error_bubble(str(e)), gr.update(choices=[], value=None)
        choices = sorted(
            (f"{d['title'] or d['doc_id']} — {d['source']}", d["doc_id"]) for d in docs
        )
        return render.library_table(docs, query or ""), gr.update(choices=choices, value=None)

    def upload(
        self,
        files: list[str] | None,
        query: str,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> tuple[Any, ...]:
        """Copy the uploaded files into the sources folder and index them; report per file."""
        paths = [Path(f) for f in files or []]
        if not paths:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        names = [p.name for p in paths]
        try:
            report = rag.add_sources(self.settings, paths, progress=progress_callback(progress))
        except RagError as e:
            rows = [(name, False, str(e)) for name in names]
            return render.file_report(rows, "Nothing was added."), *self.listing(query), None
        rows = []
        for name in names:
            reasons = [r for s, r in report.skipped if same_file(s, name)]
            rows.append((name, not reasons, "; ".join(reasons) or "indexed; ask about it now"))
        rows += [
            (s, False, f"skipped: {r}")
            for s, r in report.skipped
            if not any(same_file(s, n) for n in names)
        ]
        return render.file_report(rows, str(report)), *self.listing(query), None

    def _file_of(self, doc_id: str | None) -> tuple[Json, list[Json]] | None:
        """The chosen article and every article of its file."""
        docs = rag.documents(self.settings)
        doc = next((d for d in docs if d["doc_id"] == doc_id), None)
        if doc is None:
            return None
        return doc, [d for d in docs if d["source"] == doc["source"]]

    def ask_remove(self, doc_id: str | None) -> tuple[Any, ...]:
        """Say exactly what removing the chosen article takes away; delete nothing yet."""
        found = self._file_of(doc_id) if doc_id else None
        if found is None:
            return render.file_report([], CHOOSE_FIRST), gr.update(visible=False), "", None
        doc, same = found
        text = (REMOVE_MANY if len(same) > 1 else REMOVE_ONE).format(
            title=render.esc(doc["title"] or doc["doc_id"]),
            file=render.esc(doc["source"]),
            count=len(same),
            trash=render.esc(rag.trash_folder(self.settings)),
            days=KEEP_DAYS,
        )
        pending = {"source": doc["source"], "count": len(same)}
        return "", gr.update(visible=True), text, pending

    def remove(
        self,
        pending: Json | None,
        query: str,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> tuple[Any, ...]:
        """Confirmed: move the file to the trash, if it still holds what was shown."""
        hide = gr.update(visible=False)
        if not pending:
            return render.file_report([], CHOOSE_FIRST), *self.listing(query), hide, None
        source, count = str(pending["source"]), int(pending["count"])
        try:
            now = sum(d["source"] == source for d in rag.documents(self.settings))
            if now != count:
                message = CHANGED.format(file=source, count=now)
                return (
                    render.file_report([(source, False, message)]),
                    *self.listing(query),
                    hide,
                    None,
                )
            rag.remove_source(self.settings, source, progress=progress_callback(progress))
        except RagError as e:
            return render.file_report([(source, False, str(e))]), *self.listing(query), hide, None
        message = REMOVED.format(
            file=source,
            count=count,
            s="" if count == 1 else "s",
            trash=rag.trash_folder(self.settings),
            days=KEEP_DAYS,
        )
        return render.file_report([(source, True, message)]), *self.listing(query), hide, None

    def cancel_remove(self) -> tuple[Any, Any]:
        return gr.update(visible=False), None

    def reindex(
        self,
        query: str,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> tuple[Any, ...]:
        try:
            report = rag.index(self.settings, progress=progress_callback(progress))
        except RagError as e:
            return render.file_report([], str(e)), *self.listing(query)
        rows = [(s, False, f"skipped: {r}") for s, r in report.skipped]
        return render.file_report(rows, str(report)), *self.listing(query)

    def read(self, evt: gr.EventData) -> tuple[Any, Any]:
        """A library title was clicked: open the article in the Chat tab's reader."""
        data = evt._data if isinstance(evt._data, dict) else {}
        try:
            doc = rag.document(self.settings, str(data.get("doc", "")))
        except RagError as e:
            return render.error_bubble(str(e)), gr.Tabs(selected="chat")
        return render.article_view(doc, 0, 0, label=FROM_LIBRARY), gr.Tabs(selected="chat")
