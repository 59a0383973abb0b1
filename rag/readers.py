"""Turn the files of a sources folder into `Document`s.

`list_sources` walks the folder and says which files to read (and which entries it had to
skip, e.g. symlinks leading out of the folder); `read_source` reads one file into one or more
`Document`s plus per-part warnings, or raises `SourceError` with a reason a user can act on.

Formats: plain text (.txt), Markdown with optional YAML front matter (.md, .markdown), HTML
(.html, .htm), PDF (.pdf) and JSON Lines with one article per line (.jsonl). A sidecar file
`NAME.EXT.meta.yaml` next to a source fills in or overrides its metadata (for JSONL, that of
every record).

Text is decoded strictly: UTF-8 (or UTF-16/32 when a BOM says so; HTML may also declare its
charset); nothing is guessed. Plain text, Markdown bodies and JSONL texts are returned
verbatim, because later offsets must map back to them; HTML and PDF text is produced, as
paragraphs separated by blank lines: a web page's article body and metadata by `webpage`
(trafilatura), a PDF's pages here. PDFs are parsed in a child process with a time and memory
limit, so one hostile file cannot hang or starve the indexer.

Left out on purpose: OCR of scanned PDFs, .docx/.epub/.rtf, guessing legacy encodings,
removing chrome from text files (cleaning happens later), and fetching anything from the
network.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import stat
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

from rag.errors import SourceError
from rag.types import Document

SUPPORTED: tuple[str, ...] = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".jsonl")
SIDECAR_SUFFIX = ".meta.yaml"
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_LINE_CHARS = 200_000  # longer lines are not prose (see _without_huge_lines)
PDF_TIMEOUT_S = 60
PDF_MAX_MEMORY = 1024**3  # address-space limit of the PDF child process, bytes

_MAX_SIDECAR_BYTES = 1024 * 1024
_PDF_MAX_CHARS = 20_000_000  # more text than this from one PDF is a bomb, not an article
_PDF_OUT_OF_MEMORY = 3  # exit code of the PDF child when it hit the memory limit
_META_FIELDS = ("title", "publisher", "author", "date", "url")


# ---------------------------------------------------------------------------------------------
# Listing


def check_sources_folder(root: Path) -> None:
    """Raise `SourceError` unless `root` is a folder that can be listed."""
    try:
        root_stat = root.stat()
    except FileNotFoundError:
        raise SourceError(str(root), "folder not found") from None
    except OSError as err:
        raise SourceError(str(root), _os_reason(err)) from None
    if not stat.S_ISDIR(root_stat.st_mode):
        raise SourceError(str(root), "not a folder (give the folder that holds the sources)")


def list_sources(root: Path) -> tuple[list[Path], list[tuple[str, str]]]:
    """Every readable supported file under `root`, plus (relative path, reason) for skipped ones.

    Hidden entries, sidecars and unsupported extensions are ignored silently; broken symlinks,
    symlinks leading outside `root`, symlinked folders (not followed), unreadable entries and
    sidecars without a source file are reported. Both lists are sorted by relative POSIX path.
    """
    root = Path(root)
    check_sources_folder(root)
    real_root = root.resolve()

    found: list[tuple[str, Path]] = []
    problems: list[tuple[str, str]] = []
    stack: list[tuple[Path, str]] = [(root, "")]  # explicit stack: deep trees must not recurse
    while stack:
        folder, prefix = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError as err:
            problems.append((prefix.rstrip("/") or ".", f"cannot open folder: {_os_reason(err)}"))
            continue
        names = {entry.name for entry in entries}
        for entry in entries:
            name, rel, path = entry.name, prefix + entry.name, Path(entry.path)
            if name.startswith("."):
                continue
            try:
                if entry.is_symlink():
                    try:
                        target = path.resolve(strict=True)
                    except (OSError, RuntimeError):  # missing target or a symlink loop
                        problems.append((rel, "broken symlink"))
                        continue
                    if not target.is_relative_to(real_root):
                        problems.append((rel, "symlink points outside the sources folder"))
                        continue
                    if target.is_dir():
                        # Its files are listed at their real place; following would duplicate
                        # them or loop.
                        problems.append((rel, "symlink to a folder (not followed)"))
                        continue
                elif entry.is_dir(follow_symlinks=False):
                    stack.append((path, rel + "/"))
                    continue
                if name.endswith(SIDECAR_SUFFIX):
                    owner = name[: -len(SIDECAR_SUFFIX)]
                    if owner not in names:
                        problems.append((rel, f"sidecar without its source file {owner!r}"))
                    continue
                if path.suffix.lower() not in SUPPORTED:
                    continue
                if not entry.is_file():  # FIFOs, sockets, devices: opening one could block
                    problems.append((rel, "not a regular file"))
                elif not os.access(path, os.R_OK):
                    problems.append((rel, "permission denied"))
                else:
                    found.append((rel, path))
            except OSError as err:
                problems.append((rel, _os_reason(err)))
    found.sort(key=lambda item: item[0])
    problems.sort()
    return [path for _, path in found], problems


# ---------------------------------------------------------------------------------------------
# Reading


def read_source(path: Path, root: Path) -> tuple[list[Document], list[str]]:
    """Read one source file into its documents and a list of per-part warnings.

    Raises `SourceError(relative path, reason)` when the file as a whole is unusable.
    """
    path, root = Path(path), Path(root)
    rel = _relpath(path, root)
    ext = path.suffix.lower()
    if ext not in SUPPORTED:
        raise SourceError(rel, f"unsupported file type {ext or '(no extension)'!r}")
    _check_inside(path, root, rel)
    if _check_file(path, rel, MAX_FILE_BYTES) == 0:
        raise SourceError(rel, "empty file")
    sidecar = _read_sidecar(path, root)  # first: a broken sidecar should not cost a PDF parse

    warnings: list[str] = []
    if ext == ".pdf":
        docs = [_read_pdf(path, rel, warnings)]
    else:
        data = _read_bytes(path, rel, MAX_FILE_BYTES)
        if ext in (".html", ".htm"):
            docs = [_read_html(data, rel)]
        elif ext == ".jsonl":
            docs = _read_jsonl(_decode(data, rel), rel, warnings)
        elif ext == ".txt":
            docs = [Document(doc_id=rel, source=rel, text=_nonblank(_decode(data, rel), rel))]
        else:
            docs = [_read_markdown(_decode(data, rel), rel)]
    docs = _without_huge_lines(docs, rel, warnings)
    for doc in docs:
        _apply_meta(doc, sidecar)
    return docs, warnings


def _without_huge_lines(docs: list[Document], rel: str, warnings: list[str]) -> list[Document]:
    """Refuse text with a line over MAX_LINE_CHARS: no article has one, and cutting such a
    line into chunks costs minutes (a 50 MB one-line file would stall the whole run)."""
    kept = []
    for doc in docs:
        longest = max(map(len, doc.text.splitlines()), default=0)
        if longest <= MAX_LINE_CHARS:
            kept.append(doc)
            continue
        reason = f"a line of {longest:,} characters (limit {MAX_LINE_CHARS:,}): not article text"
        if len(docs) == 1:
            raise SourceError(rel, reason)
        warnings.append(f"{doc.doc_id}: skipped, {reason}")
    if not kept:
        raise SourceError(rel, f"no documents left: {reason}")
    return kept


def _read_markdown(text: str, rel: str) -> Document:
    text = _nonblank(text, rel)
    doc = Document(doc_id=rel, source=rel, text=text)
    match = _FRONT_MATTER.match(text)
    if match:
        meta = _load_yaml(match.group(1) or "", rel, "bad YAML front matter", line_offset=1)
        doc.text = text[match.end() :]
        if not doc.text.strip():
            raise SourceError(rel, "no text after the front matter")
        _apply_meta(doc, meta)
    if not doc.title:
        heading = _MD_HEADING.search(doc.text)
        if heading:
            doc.title = heading.group(1)
    return doc


# Front matter: a `---` line at the very start, YAML, then a `---` (or `...`) line.
_FRONT_MATTER = re.compile(
    r"\A---[ \t]*\r?\n(.*?\r?\n)??(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL
)
_MD_HEADING = re.compile(r"^#[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


def _read_jsonl(text: str, rel: str, warnings: list[str]) -> list[Document]:
    text = _nonblank(text, rel)
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
            _apply_meta(doc, record)
        except ValueError as err:
            warnings.append(f"line {number}: {err}")
            continue
        docs.append(doc)
    if not docs:
        hint = f"; {warnings[0]}" if warnings else ""
        raise SourceError(rel, f"no documents (every line was invalid{hint})")
    return docs


# ---------------------------------------------------------------------------------------------
# HTML


def _read_html(data: bytes, rel: str) -> Document:
    from rag.webpage import read_page

    page = read_page(_nonblank(_decode(data, rel, html=True), rel), rel)
    doc = Document(doc_id=rel, source=rel, text=page.text, chrome_removed=page.chrome_removed)
    _apply_meta(doc, page.meta)
    return doc


# ---------------------------------------------------------------------------------------------
# PDF

# Runs in a fresh interpreter (`python -c`), importing nothing from `rag`, so the child starts
# fast whatever `rag/__init__` pulls in. The memory limit is set before pypdf is imported.
_PDF_CHILD = r"""
import json, os, sys

def extract(path, max_chars):
    import logging
    logging.disable(logging.CRITICAL)  # pypdf logs every quirk; the parent wants a verdict
    from pypdf import PdfReader
    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except MemoryError:
                raise
            except Exception as err:  # e.g. AES without the 'cryptography' package
                return {"error": "encrypted", "detail": str(err)}
            if not opened:
                return {"error": "encrypted", "detail": ""}
        pages = reader.pages
        count = len(pages)
    except MemoryError:
        raise
    except RecursionError:
        return {"error": "corrupt", "detail": "objects nested too deeply"}
    except Exception as err:
        return {"error": "corrupt", "detail": str(err) or type(err).__name__}
    texts, warnings, total = [], [], 0
    for i in range(count):
        try:
            text = pages[i].extract_text() or ""
        except MemoryError:
            raise
        except Exception as err:
            text = ""
            warnings.append("page %d: could not extract text (%s)" % (i + 1, err))
        total += len(text)
        if total > max_chars:
            return {"error": "too much text", "detail": ""}
        texts.append(text)
    meta = {}
    try:
        info = reader.metadata
        if info is not None:
            meta = {"title": info.title, "author": info.author, "date": info.creation_date_raw}
    except MemoryError:
        raise
    except Exception:
        pass  # metadata is optional; a broken Info dictionary must not lose the text
    meta = {key: str(value) for key, value in meta.items() if value}
    return {"pages": texts, "meta": meta, "warnings": warnings}

def main():
    path, limit, max_chars = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    try:
        import resource
        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)  # raising the hard limit is not allowed
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, ValueError, OSError):
        pass  # no rlimits on this platform: the time limit still applies
    try:
        result = extract(path, max_chars)
        sys.stdout.write(json.dumps(result))
        sys.stdout.flush()
    except MemoryError:
        os._exit(int(sys.argv[4]))

main()
"""


def _read_pdf(path: Path, rel: str, warnings: list[str]) -> Document:
    try:
        with path.open("rb") as file:
            head = file.read(1024)
    except OSError as err:
        raise SourceError(rel, _os_reason(err)) from None
    if b"%PDF-" not in head:
        raise SourceError(rel, "not a PDF (no %PDF header)")

    result = _run_pdf_child(path, rel)
    if "error" in result:
        kind, detail = result["error"], " ".join(str(result.get("detail", "")).split())
        if kind == "encrypted":
            raise SourceError(rel, "encrypted PDF" + (f" ({detail})" if detail else ""))
        if kind == "too much text":
            raise SourceError(rel, f"PDF holds more than {_PDF_MAX_CHARS:,} characters of text")
        raise SourceError(rel, f"corrupt PDF: {detail[:300]}")

    # Pages are joined by a blank line; empty pages are left out but keep their numbers.
    chunks: list[str] = []
    pages: list[tuple[int, int]] = []
    offset = 0
    for number, raw in enumerate(result["pages"], 1):
        page_text = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").strip()
        if not page_text:
            continue
        if chunks:
            offset += 2
        pages.append((offset, number))
        chunks.append(page_text)
        offset += len(page_text)
    if not chunks:
        failed = result.get("warnings", [])  # e.g. a page whose stream inflates too far
        why = f"; {' '.join(str(failed[0]).split())[:300]}" if failed else ""
        raise SourceError(rel, f"PDF has no extractable text (scanned?{why})")
    warnings.extend(result.get("warnings", []))
    doc = Document(doc_id=rel, source=rel, text="\n\n".join(chunks), pages=pages)
    _apply_meta(doc, result.get("meta", {}))
    return doc


def _run_pdf_child(path: Path, rel: str) -> dict[str, Any]:
    import signal
    import subprocess

    # -P: do not put the current directory on the child's sys.path (no shadowing of pypdf).
    flags = ["-P"] if sys.version_info >= (3, 11) else []
    command = [
        sys.executable,
        *flags,
        "-c",
        _PDF_CHILD,
        os.fspath(path),
        str(PDF_MAX_MEMORY),
        str(_PDF_MAX_CHARS),
        str(_PDF_OUT_OF_MEMORY),
    ]
    try:
        proc = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=PDF_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise SourceError(rel, f"PDF took too long to parse (over {PDF_TIMEOUT_S} s)") from None
    except OSError as err:
        raise SourceError(rel, f"cannot start the PDF parser: {_os_reason(err)}") from None
    too_big = f"PDF needs too much memory to parse (over {_size(PDF_MAX_MEMORY)})"
    if proc.returncode == _PDF_OUT_OF_MEMORY:
        raise SourceError(rel, too_big)
    if proc.returncode < 0:
        try:
            name = signal.Signals(-proc.returncode).name
        except ValueError:
            name = f"signal {-proc.returncode}"
        raise SourceError(
            rel, f"PDF parser crashed ({name}): the file is corrupt or needs too much memory"
        )
    try:
        result = json.loads(proc.stdout)
    except ValueError:
        result = None
    if proc.returncode != 0 or not isinstance(result, dict):
        lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        if any("MemoryError" in line for line in lines[-3:]):
            raise SourceError(rel, too_big)
        last = lines[-1] if lines else f"exit code {proc.returncode}, no output"
        raise SourceError(rel, f"corrupt PDF: parser failed ({last[:300]})")
    return result


# ---------------------------------------------------------------------------------------------
# Metadata


def _read_sidecar(path: Path, root: Path) -> dict[str, Any]:
    """The metadata in `path`'s sidecar, or {} when there is none."""
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    if not os.path.lexists(sidecar):
        return {}
    rel = _relpath(sidecar, root)
    _check_inside(sidecar, root, rel)
    size = _check_file(sidecar, rel, _MAX_SIDECAR_BYTES)
    data = _read_bytes(sidecar, rel, _MAX_SIDECAR_BYTES) if size else b""
    text = _decode(data, rel) if data else ""
    return _load_yaml(text, rel, "bad YAML in sidecar")


def _load_yaml(text: str, rel: str, what: str, line_offset: int = 0) -> dict[str, Any]:
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


def _apply_meta(doc: Document, meta: dict[str, Any]) -> None:
    """Fill/override `doc`'s metadata from `meta`; empty values never override."""
    for key, value in meta.items():
        field = str(key).strip().lower()
        if field in _META_FIELDS:
            text = _iso_date(value) if field == "date" else _text_value(value)
            if text:
                setattr(doc, field, text)
        elif value is not None and value != "":
            doc.extra[str(key)] = _plain(value)


def _text_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (datetime, date)):
        return _iso_date(value)
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


def _iso_date(value: Any) -> str:
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


# ---------------------------------------------------------------------------------------------
# Bytes and text


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16: its BOM starts with the UTF-16-LE one
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_HTML_CHARSET = re.compile(
    rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE
)


def _decode(data: bytes, rel: str, html: bool = False) -> str:
    """Strictly decoded text: UTF-8, or UTF-16/32 by BOM, or (HTML) the declared charset."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(codec)  # the codec consumes the BOM
            except UnicodeDecodeError as err:
                raise SourceError(
                    rel, f"not valid {codec.upper()} text ({err.reason} at offset {err.start})"
                ) from None
            if "\x00" in text:
                raise SourceError(rel, "binary file (NUL bytes)")
            return text
    if b"\x00" in data:
        raise SourceError(rel, "binary file (NUL bytes)")
    skip = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[skip:].decode("utf-8")
    except UnicodeDecodeError as err:
        utf8_error = err
    if html:
        declared = _HTML_CHARSET.search(data[:4096])
        if declared:
            charset = declared.group(1).decode("ascii")
            try:
                return data.decode(charset)
            except LookupError:
                pass  # unknown charset name: report the UTF-8 problem
            except UnicodeDecodeError as err:
                raise SourceError(
                    rel,
                    f"not valid {charset} text (byte 0x{data[err.start]:02x} at offset "
                    f"{err.start})",
                ) from None
    offset = utf8_error.start + skip
    raise SourceError(rel, f"not valid UTF-8 text (byte 0x{data[offset]:02x} at offset {offset})")


def _nonblank(text: str, rel: str) -> str:
    if not text.strip():
        raise SourceError(rel, "empty file")
    return text


def _check_file(path: Path, rel: str, limit: int) -> int:
    """The size of regular file `path`, checked against `limit` before anything is read."""
    try:
        info = path.stat()
    except OSError as err:
        raise SourceError(rel, _os_reason(err)) from None
    if not stat.S_ISREG(info.st_mode):
        raise SourceError(rel, "not a regular file")
    if info.st_size > limit:
        raise SourceError(rel, f"file too large ({_size(info.st_size)} > {_size(limit)} limit)")
    return info.st_size


def _read_bytes(path: Path, rel: str, limit: int) -> bytes:
    try:
        with path.open("rb") as file:
            data = file.read(limit + 1)  # the file may have grown since stat()
    except OSError as err:
        raise SourceError(rel, _os_reason(err)) from None
    if len(data) > limit:
        raise SourceError(rel, f"file too large (over {_size(limit)} limit)")
    return data


def _check_inside(path: Path, root: Path, rel: str) -> None:
    try:
        inside = path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop on older Pythons
        inside = True  # let the open() that follows report the real problem
    if not inside:
        raise SourceError(rel, "symlink points outside the sources folder")


def _relpath(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        pass
    try:
        return path.absolute().relative_to(root.absolute()).as_posix()
    except ValueError:
        return path.as_posix()


def _os_reason(err: OSError) -> str:
    return err.strerror or str(err) or type(err).__name__


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")
    if n >= 1024:
        return f"{n / 1024:.1f} KB".replace(".0 KB", " KB")
    return f"{n} bytes"


__all__ = [
    "MAX_FILE_BYTES",
    "MAX_LINE_CHARS",
    "PDF_MAX_MEMORY",
    "PDF_TIMEOUT_S",
    "SIDECAR_SUFFIX",
    "SUPPORTED",
    "list_sources",
    "read_source",
]
