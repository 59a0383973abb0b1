"""The web page reader's child process: reads pages one after another, as JSON lines.

`rag.formats.html` runs this file by path in a fresh interpreter, `python -P
_html_child.py ROOT`, where ROOT is the folder holding the `rag` package (`-P` keeps this
folder off `sys.path`: its `html.py` must not shadow the standard library's). Each request
on stdin is one JSON line `{"html": ..., "rel": ...}`; each answer on stdout is one JSON
line `{"text": ..., "meta": {...}, "chrome_removed": bool}` or `{"error": reason}`. It
exits at the end of its input.

Left out: the time limit (the parent kills a child that answers too late, and starts a
new one for the next page) and turning the answer into a `Document` (the parent does).
"""

from __future__ import annotations

import json
import sys
from typing import Any


def answer(request: dict[str, Any]) -> dict[str, Any]:
    """The article of one requested page, or the reason it has none."""
    from rag.errors import SourceError
    from rag.webpage import read_page

    try:
        page = read_page(request["html"], request["rel"])
    except SourceError as err:
        return {"error": err.reason}
    except RecursionError:
        return {"error": "markup nested too deeply"}
    return {"text": page.text, "meta": page.meta, "chrome_removed": page.chrome_removed}


def main() -> None:
    sys.path.insert(0, sys.argv[1])
    # Imported before the first request is read: the parent's clock starts once its
    # request is written, and starting up must not count against a page.
    import trafilatura  # noqa: F401

    import rag.webpage  # noqa: F401

    for line in sys.stdin.buffer:
        sys.stdout.write(json.dumps(answer(json.loads(line))) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
