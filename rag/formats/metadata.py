"""Article metadata: the sidecar file, YAML mappings, and values made plain and dated.

`read_sidecar(path, root)` reads `NAME.EXT.meta.yaml` beside a source (or {} when there is
none); `load_yaml` reads a YAML mapping (a sidecar or Markdown front matter) into JSON-safe
values; `apply_meta(doc, meta)` fills in or overrides a `Document`'s title, publisher,
author, date and url (empty values never override) and keeps other keys in `doc.extra`;
`iso_date` turns the date spellings found in articles, feeds and PDFs into YYYY-MM-DD.

Left out on purpose: where metadata comes from inside a format (the format's reader finds
it: front matter, `<meta>` tags, a PDF's Info dictionary, JSONL keys) and any check that a
value is true.
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

from rag.errors import SourceError
from rag.types import Document

from .decode import decode
from .files import check_file, check_inside, read_bytes, relpath

SIDECAR_SUFFIX = ".meta.yaml"
_MAX_SIDECAR_BYTES = 1024 * 1024
_META_FIELDS = ("title", "publisher", "author", "date", "url")


def read_sidecar(path: Path, root: Path) -> dict[str, Any]:
    """The metadata in `path`'s sidecar, or {} when there is none."""
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    if not os.path.lexists(sidecar):
        return {}
    rel = relpath(sidecar, root)
    check_inside(sidecar, root, rel)
    size = check_file(sidecar, rel, _MAX_SIDECAR_BYTES)
    data = read_bytes(sidecar, rel, _MAX_SIDECAR_BYTES) if size else b""
    text = decode(data, rel) if data else ""
    return load_yaml(text, rel, "bad YAML in sidecar")


def load_yaml(text: str, rel: str, what: str, line_offset: int = 0) -> dict[str, Any]:
    """A YAML mapping of metadata; SourceError(rel, "<what>: ...") when it is not one."""
    import yaml

    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        where = f" (line {mark.line + 1 + line_offset})" if mark is not None else ""
        raise SourceError(rel, f"{what}: {err.problem or err.context}{where}") from None
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as err:
        # ValueError: e.g. `date: 2024-02-30`, which YAML reads as an impossible date.
        raise SourceError(rel, f"{what}: {err or type(err).__name__}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SourceError(rel, f"{what}: expected 'key: value' lines")
    try:
        return {str(key): _plain(value) for key, value in data.items()}
    except ValueError as err:
        raise SourceError(rel, f"{what}: {err}") from None


def apply_meta(doc: Document, meta: dict[str, Any]) -> None:
    """Fill/override `doc`'s metadata from `meta`; empty values never override."""
    for key, value in meta.items():
        field = str(key).strip().lower()
        if field in _META_FIELDS:
            text = iso_date(value) if field == "date" else _text_value(value)
            if text:
                setattr(doc, field, text)
        elif value is not None and value != "":
            doc.extra[str(key)] = _plain(value)


def _text_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (datetime, date)):
        return iso_date(value)
    if isinstance(value, (list, tuple)):  # e.g. several authors
        return ", ".join(filter(None, map(_text_value, value)))
    return " ".join(str(value).split())


def _plain(value: Any, depth: int = 0, budget: list[int] | None = None) -> Any:
    """`value` as JSON-safe data (dates as ISO strings), refusing huge or cyclic structures.

    YAML anchors can make cyclic or exponentially shared structures; those must not reach
    the index writer.
    """
    budget = [10_000] if budget is None else budget
    budget[0] -= 1
    if depth > 32 or budget[0] < 0:
        raise ValueError("metadata nested too deeply or too large")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v, depth + 1, budget) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v, depth + 1, budget) for v in value]
    return str(value)


_DATE_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%Y/%m/%d", "%B %d %Y")
# ISO 8601 (extended or basic form), or a PDF date string "D:YYYYMMDDHHmmSS...".
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?!\d)|(?:D:|(?=\d{8}(?!\d)))(\d{4})(\d{2})(\d{2})")


def iso_date(value: Any) -> str:
    """`value` as YYYY-MM-DD when it parses as a date, else the value as given (never raises)."""
    from email.utils import parsedate_to_datetime

    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = _text_value(value)
    match = _ISO_DATE.match(text)  # ISO 8601 and PDF's D:YYYYMMDD...
    if match:
        try:
            return date(*(int(g) for g in match.groups() if g)).isoformat()
        except ValueError:
            pass
    if text.startswith("D:") and text[2:6].isdigit():  # PDF date with year only
        return text[2:6]
    try:
        return parsedate_to_datetime(text).date().isoformat()  # RFC 2822, as in RSS feeds
    except (TypeError, ValueError, IndexError, OverflowError):
        pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            pass
    return text
