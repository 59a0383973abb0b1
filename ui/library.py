"""The Library tab's event handlers: list, upload, remove (after asking), re-index, read.

`Library(settings, tab, article, tabs)` holds the handlers as methods and `wire()` connects
them to the components of `ui.tabs.LibraryTab` (a clicked title opens in the Chat tab's
`article`). Each handler returns the components it changes, as `{component: value}`.
Removing asks first and says exactly what goes: the file, and every article it holds (a
.jsonl file holds many, and goes whole). A removed file is moved to the trash folder
(`rag.api.trash_folder`), never unlinked. An upload that cannot be indexed is not kept;
only files in Gradio's upload folder are taken; what a reader skipped in a file (a bad
JSONL line, a PDF page) is said on its row.

Left out: indexing and the trash themselves (`rag.api`), and the layout (`ui.tabs`).
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
from .tabs import LibraryTab, Updates
from .types import Json

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
INDEXED = "indexed; ask about it now"
INDEXED_WITH_WARNINGS = "indexed with {n} warning{s}, ask about it now: {warnings}"


def progress_callback(progress: gr.Progress) -> Callable[[int, int, str], None]:
    """Indexing progress, in plain words, on Gradio's one progress bar."""

    def update(done: int, total: int, message: str) -> None:
        progress(done / total if total else None, desc=render.progress_words(done, total, message))

    return update


def indexed_words(warnings: list[str]) -> str:
    """An indexed file's row: what its reader skipped (a JSONL line, a PDF page), if anything."""
    if not warnings:
        return INDEXED
    return INDEXED_WITH_WARNINGS.format(
        n=len(warnings), s="" if len(warnings) == 1 else "s", warnings="; ".join(warnings)
    )


def same_file(source: str, name: str) -> bool:
    """True when an index report's `source` is the uploaded `name` (maybe renamed `stem-N`)."""
    stem, dot, suffix = name.rpartition(".")
    if source == name:
        return True
    if not dot or not source.startswith(stem + "-") or not source.endswith("." + suffix):
        return False
    return source[len(stem) + 1 : -len(suffix) - 1].isdigit()


class Library:
    """Handlers of the Library tab, bound to one app's settings and tab."""

    def __init__(
        self, settings: Settings, tab: LibraryTab, article: gr.HTML, tabs: gr.Tabs
    ) -> None:
        self.settings = settings
        self.tab = tab
        self.article = article  # the Chat tab's reader, where a clicked title opens
        self.tabs = tabs

    def wire(self, demo: gr.Blocks) -> None:
        """Connect the handlers to the tab's events (and the page load of `demo`)."""
        t = self.tab
        private: dict[str, Any] = {"api_visibility": "private"}
        indexing: dict[str, Any] = {"concurrency_id": "index", "concurrency_limit": 1, **private}
        listing = [t.table, t.to_remove]
        demo.load(self.listing, t.search, listing, **private)
        t.search.change(self.listing, t.search, listing, show_progress="hidden", **private)
        t.table.read(self.read, None, [self.article, self.tabs], **private)
        t.files.upload(
            self.upload,
            [t.files, t.search],
            [t.upload_report, *listing, t.files],
            show_progress_on=[t.upload_report],
            **indexing,
        )
        t.remove_btn.click(
            self.ask_remove,
            t.to_remove,
            [t.maintenance, t.remove_confirm, t.remove_text, t.pending],
            **private,
        )
        t.remove_no.click(self.cancel_remove, None, [t.remove_confirm, t.pending], **private)
        t.remove_yes.click(
            self.remove,
            [t.pending, t.search],
            [t.maintenance, *listing, t.remove_confirm, t.pending],
            show_progress_on=[t.maintenance],
            **indexing,
        )
        t.reindex_btn.click(
            self.reindex,
            t.search,
            [t.maintenance, *listing],
            show_progress_on=[t.maintenance],
            **indexing,
        )

    def listing(self, query: str) -> Updates:
        """The table and the "remove" choices (one per article: title — file)."""
        t = self.tab
        try:
            docs = rag.documents(self.settings)
        except RagError as e:
            return {
                t.table: render.error_bubble(str(e)),
                t.to_remove: gr.update(choices=[], value=None),
            }
        choices = sorted(
            (f"{d['title'] or d['doc_id']} — {d['source']}", d["doc_id"]) for d in docs
        )
        return {
            t.table: render.library_table(docs, query or ""),
            t.to_remove: gr.update(choices=choices, value=None),
        }

    def upload(
        self,
        files: list[str] | None,
        query: str,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> Updates:
        """Copy the uploaded files into the sources folder and index them; report per file."""
        t = self.tab
        paths = [Path(f) for f in files or []]
        if not paths:
            return gr.skip()
        names = [p.name for p in paths]
        try:
            report = rag.add_sources(
                self.settings,
                paths,
                inside=Path(t.files.GRADIO_CACHE),  # only what Gradio received: its upload folder
                progress=progress_callback(progress),
            )
        except RagError as e:
            rows = [(name, False, str(e)) for name in names]
            summary = "Nothing was added."
        else:
            rows = []
            for name in names:
                reasons = [r for s, r in report.skipped if same_file(s, name)]
                warned = [w for s, ws in report.warned.items() if same_file(s, name) for w in ws]
                rows.append((name, not reasons, "; ".join(reasons) or indexed_words(warned)))
            rows += [
                (s, False, f"skipped: {r}")
                for s, r in report.skipped
                if not any(same_file(s, n) for n in names)
            ]
            summary = str(report)
        return {
            t.upload_report: render.file_report(rows, summary),
            **self.listing(query),
            t.files: None,
        }

    def _file_of(self, doc_id: str | None) -> tuple[Json, list[Json]] | None:
        """The chosen article and every article of its file."""
        docs = rag.documents(self.settings)
        doc = next((d for d in docs if d["doc_id"] == doc_id), None)
        if doc is None:
            return None
        return doc, [d for d in docs if d["source"] == doc["source"]]

    def ask_remove(self, doc_id: str | None) -> Updates:
        """Say exactly what removing the chosen article takes away; delete nothing yet."""
        t = self.tab
        found = self._file_of(doc_id) if doc_id else None
        if found is None:
            return {
                t.maintenance: render.file_report([], CHOOSE_FIRST),
                t.remove_confirm: gr.update(visible=False),
                t.remove_text: "",
                t.pending: None,
            }
        doc, same = found
        text = (REMOVE_MANY if len(same) > 1 else REMOVE_ONE).format(
            title=render.esc(doc["title"] or doc["doc_id"]),
            file=render.esc(doc["source"]),
            count=len(same),
            trash=render.esc(rag.trash_folder(self.settings)),
            days=KEEP_DAYS,
        )
        return {
            t.maintenance: "",
            t.remove_confirm: gr.update(visible=True),
            t.remove_text: text,
            t.pending: {"source": doc["source"], "count": len(same)},
        }

    def remove(
        self,
        pending: Json | None,
        query: str,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> Updates:
        """Confirmed: move the file to the trash, if it still holds what was shown."""
        if not pending:
            report = render.file_report([], CHOOSE_FIRST)
        else:
            report = render.file_report([self._remove(pending, progress)])
        t = self.tab
        return {
            t.maintenance: report,
            **self.listing(query),
            t.remove_confirm: gr.update(visible=False),
            t.pending: None,
        }

    def _remove(self, pending: Json, progress: gr.Progress) -> tuple[str, bool, str]:
        """Remove the pending file; (file, removed, what happened) for the report."""
        source, count = str(pending["source"]), int(pending["count"])
        try:
            now = sum(d["source"] == source for d in rag.documents(self.settings))
            if now != count:
                return source, False, CHANGED.format(file=source, count=now)
            rag.remove_source(self.settings, source, progress=progress_callback(progress))
        except RagError as e:
            return source, False, str(e)
        message = REMOVED.format(
            file=source,
            count=count,
            s="" if count == 1 else "s",
            trash=rag.trash_folder(self.settings),
            days=KEEP_DAYS,
        )
        return source, True, message

    def cancel_remove(self) -> Updates:
        return {self.tab.remove_confirm: gr.update(visible=False), self.tab.pending: None}

    def reindex(
        self,
        query: str,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> Updates:
        """Index the sources folder again; say what was skipped."""
        try:
            report = rag.index(self.settings, progress=progress_callback(progress))
        except RagError as e:
            shown = render.file_report([], str(e))
        else:
            rows = [(s, False, f"skipped: {r}") for s, r in report.skipped]
            rows += [(s, True, indexed_words(ws)) for s, ws in report.warned.items()]
            shown = render.file_report(rows, str(report))
        return {self.tab.maintenance: shown, **self.listing(query)}

    def read(self, evt: gr.EventData) -> Updates:
        """A library title was clicked: open the article in the Chat tab's reader."""
        data = evt._data if isinstance(evt._data, dict) else {}
        try:
            doc = rag.document(self.settings, str(data.get("doc", "")))
        except RagError as e:
            shown = render.error_bubble(str(e))
        else:
            shown = render.article_view(doc, 0, 0, label=FROM_LIBRARY)
        return {self.article: shown, self.tabs: gr.Tabs(selected="chat")}
