"""JSON Lines files (.jsonl): one article per line, each its own `Document`.

`read_jsonl(data, rel, warnings)` reads every line that is a JSON object with a non-empty
string "text"; its "id" (else the line number) makes the document id `FILE#ID`, and every
other key is metadata (`metadata.apply_meta`). A bad line is skipped with a warning naming
its line number; a file with no good line at all raises `SourceError`.

Left out on purpose: JSON arrays or one object per file, nested article lists, and
repairing lines that are not valid JSON.
"""

from __future__ import annotations

import json

from rag.errors import SourceError
from rag.types import Document

from .decode import decode, nonblank
from .metadata import apply_meta


def read_jsonl(data: bytes, rel: str, warnings: list[str]) -> list[Document]:
    """The articles of a JSON Lines file; bad lines are skipped with a warning each."""
    text = nonblank(decode(data, rel), rel)
    docs: list[Document] = []
    first_line: dict[str, int] = {}
    # Split on "\n" only: JSON strings may hold raw U+2028 etc., which splitlines() would cut.
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            warnings.append(f"line {number}: not valid JSON ({err.msg} at column {err.colno})")
            continue
        except RecursionError:
            warnings.append(f"line {number}: not valid JSON (nested too deeply)")
            continue
        if not isinstance(record, dict):
            warnings.append(f"line {number}: not a JSON object")
            continue
        body = record.pop("text", None)
        if not isinstance(body, str) or not body.strip():
            warnings.append(f'line {number}: "text" is missing, empty or not a string')
            continue
        raw_id = record.pop("id", None)
        if raw_id is None or raw_id == "":
            doc_key = str(number)
        elif isinstance(raw_id, (str, int, float)) and not isinstance(raw_id, bool):
            doc_key = str(raw_id).strip()
        else:
            warnings.append(f'line {number}: "id" must be a string or a number')
            continue
        if doc_key in first_line:
            warnings.append(
                f"line {number}: duplicate id {doc_key!r} (first on line {first_line[doc_key]});"
                " skipped"
            )
            continue
        first_line[doc_key] = number
        doc = Document(doc_id=f"{rel}#{doc_key}", source=rel, text=body)
        try:
            apply_meta(doc, record)
        except ValueError as err:
            warnings.append(f"line {number}: {err}")
            continue
        docs.append(doc)
    if not docs:
        hint = f"; {warnings[0]}" if warnings else ""
        raise SourceError(rel, f"no documents (every line was invalid{hint})")
    return docs
