"""Saved web pages (.html, .htm): decoded here, their article read by `rag.webpage`.

`read_html(data, rel)` decodes the page strictly (UTF-8, a BOM, or the charset the page
declares) and hands it to `rag.webpage.read_page`, which finds the article body and its
metadata; the result is one `Document`, marked `chrome_removed` when only the body was kept.

A page over `IN_PROCESS_MAX_CHARS` is read in a child process (`_html_child.py`, one kept
for page after page) with a time limit, `HTML_TIMEOUT_S`: its markup is counted first
(`rag.webpage.check_markup`), but parsers can be slow in ways no count foresees, and one
page must not hold up the index run. A page that runs out of time is skipped with that
reason; the child is killed and a new one reads the next page. Smaller pages are read here:
every markup pattern tried at that size (many attributes, deep nesting, paragraphs,
tables, links, unclosed tags) read in under 0.4 s.

Left out: everything about finding the article in the markup (that is `rag.webpage`), and
a memory limit for the child.
"""

from __future__ import annotations

import atexit
import json
import select
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

from rag.errors import SourceError
from rag.types import Document
from rag.webpage import Page, check_markup, read_page

from .decode import decode, nonblank
from .metadata import apply_meta

HTML_TIMEOUT_S = 60
IN_PROCESS_MAX_CHARS = 100_000
CHILD = Path(__file__).with_name("_html_child.py")


def read_html(data: bytes, rel: str) -> Document:
    """A saved web page as one document: its article text and metadata."""
    html = nonblank(decode(data, rel, html=True), rel)
    page = read_page(html, rel) if len(html) <= IN_PROCESS_MAX_CHARS else _CHILD.read(html, rel)
    doc = Document(doc_id=rel, source=rel, text=page.text, chrome_removed=page.chrome_removed)
    apply_meta(doc, page.meta)
    return doc


class _Child:
    """The child process that reads large pages, started when first needed."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.lock = threading.Lock()  # one page at a time through the pipe

    def read(self, html: str, rel: str) -> Page:
        check_markup(html, rel)  # the clear reasons first, without a child
        request = json.dumps({"html": html, "rel": rel}).encode() + b"\n"
        with self.lock:
            proc = self._started()
            assert proc.stdin is not None and proc.stdout is not None
            try:
                proc.stdin.write(request)
                proc.stdin.flush()
                line = _line_within(proc.stdout, HTML_TIMEOUT_S)
            except OSError:  # the child died under the request
                line = b""
            if line is None:
                self.stop()
                raise SourceError(
                    rel, f"reading the page took over {HTML_TIMEOUT_S} s (too much markup?)"
                )
            if not line:
                code = self.stop()
                raise SourceError(rel, f"the page reader stopped (exit code {code})")
        found = json.loads(line)
        if "error" in found:
            raise SourceError(rel, found["error"])
        return Page(found["text"], found["meta"], found["chrome_removed"])

    def _started(self) -> subprocess.Popen[bytes]:
        if self.proc is None or self.proc.poll() is not None:
            root = str(Path(__file__).resolve().parents[2])
            self.proc = subprocess.Popen(
                [sys.executable, "-P", str(CHILD), root],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        return self.proc

    def stop(self) -> int | None:
        """Kill the child (if any); its exit code."""
        proc, self.proc = self.proc, None
        if proc is None:
            return None
        proc.kill()
        code = proc.wait()
        for pipe in (proc.stdin, proc.stdout):
            if pipe is not None:
                pipe.close()
        return code


def _line_within(stream: IO[bytes], seconds: float) -> bytes | None:
    """The next line of `stream`, b"" at its end, None when none began within `seconds`."""
    ready, _, _ = select.select([stream], [], [], seconds)
    return stream.readline() if ready else None


_CHILD = _Child()
atexit.register(_CHILD.stop)
