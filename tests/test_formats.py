"""Tests for rag.formats: every format, the sidecar, and the hostile-file cases.

Fixtures are built in each test under `tmp_path`; PDFs are written by `make_pdf`, a tiny
hand-made PDF writer (pypdf cannot lay out text itself).
"""

from __future__ import annotations

import codecs
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from helpers import SHARED
from hostile.corpus import pdf, text_stream
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag import api, webpage
from rag.errors import SourceError
from rag.formats import (
    SIDECAR_SUFFIX,
    list_sources,
    read_source,
    register_format,
    registry,
    supported,
)
from rag.formats import html as html_reader
from rag.formats import pdf as pdf_reader
from rag.formats import source as source_reader
from rag.formats.metadata import iso_date
from rag.settings import Settings
from rag.types import Document

# --------------------------------------------------------------------------------------------
# helpers

# The whole Russian alphabet, built from code points (literal Cyrillic trips ruff's RUF001).
CYRILLIC = "".join(map(chr, [*range(0x410, 0x450), 0x401, 0x451]))


def examples(n: int) -> settings:
    """Few, undeadlined examples; tmp_path is reused, each example overwrites its file."""
    return settings(
        max_examples=n,
        deadline=None,
        database=None,  # leave no .hypothesis folder behind
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )


def write(root: Path, rel: str, content: str | bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", newline="")
    else:
        path.write_bytes(content)
    return path


def read_one(root: Path, rel: str, content: str | bytes) -> tuple[Document, list[str]]:
    docs, warnings = read_source(write(root, rel, content), root)
    assert len(docs) == 1
    return docs[0], warnings


def reason(root: Path, rel: str, content: str | bytes) -> str:
    with pytest.raises(SourceError) as info:
        read_source(write(root, rel, content), root)
    assert info.value.path == rel
    return info.value.reason


def make_pdf(pages: list[str], info: dict[str, str] | None = None) -> bytes:
    """A minimal valid PDF: one Helvetica text line per entry of `pages`, optional Info."""

    def literal(text: str) -> str:
        return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"

    if not info:
        return pdf([text_stream(t) for t in pages])
    entries = " ".join(f"/{key} {literal(value)}" for key, value in info.items())
    info_id = 4 + 2 * len(pages)  # after the catalog, page tree, font and each page's 2 objects
    return pdf(
        [text_stream(t) for t in pages],
        extra=[f"<< {entries} >>".encode("latin-1")],
        trailer=b" /Info %d 0 R" % info_id,
    )


# --------------------------------------------------------------------------------------------
# list_sources


def test_list_sources_sorted_and_filtered(tmp_path: Path) -> None:
    for rel in ["b.txt", "a/z.md", "a/b.HTML", "c.jsonl", "d.pdf", "README", "notes.docx"]:
        write(tmp_path, rel, "x")
    write(tmp_path, ".hidden.txt", "x")
    write(tmp_path, ".git/config.txt", "x")
    write(tmp_path, "b.txt" + SIDECAR_SUFFIX, "title: B\n")
    write(tmp_path, "gone.txt" + SIDECAR_SUFFIX, "title: orphan\n")
    files, problems = list_sources(tmp_path)
    rels = [p.relative_to(tmp_path).as_posix() for p in files]
    assert rels == ["a/b.HTML", "a/z.md", "b.txt", "c.jsonl", "d.pdf"]
    assert problems == [("gone.txt.meta.yaml", "sidecar without its source file 'gone.txt'")]


def test_list_sources_symlinks(tmp_path: Path) -> None:
    root = tmp_path / "sources"
    write(root, "real.txt", "inside")
    outside = write(tmp_path, "secret.txt", "outside")
    (root / "escape.txt").symlink_to(outside)
    (root / "alias.txt").symlink_to(root / "real.txt")
    (root / "broken.txt").symlink_to(root / "missing.txt")
    (root / "up").symlink_to(tmp_path, target_is_directory=True)
    (root / "sub").mkdir()
    (root / "loop").symlink_to(root / "sub", target_is_directory=True)
    files, problems = list_sources(root)
    assert [p.name for p in files] == ["alias.txt", "real.txt"]
    assert dict(problems) == {
        "broken.txt": "broken symlink",
        "escape.txt": "symlink points outside the sources folder",
        "loop": "symlink to a folder (not followed)",
        "up": "symlink points outside the sources folder",
    }
    # read_source refuses the escape too, should a caller skip list_sources.
    with pytest.raises(SourceError, match="outside the sources folder"):
        read_source(root / "escape.txt", root)


def test_list_sources_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "ok.txt", "x")
    write(tmp_path, "locked.txt", "x")
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode: Path(p).name != "locked.txt" and real_access(p, mode)
    )
    files, problems = list_sources(tmp_path)
    assert [p.name for p in files] == ["ok.txt"]
    assert problems == [("locked.txt", "permission denied")]


def test_list_sources_bad_root(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="folder not found"):
        list_sources(tmp_path / "nope")
    with pytest.raises(SourceError, match="not a folder"):
        list_sources(write(tmp_path, "file.txt", "x"))


def test_built_in_formats() -> None:
    assert supported() == (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".jsonl")
    assert api.supported_suffixes() == supported()
    assert SIDECAR_SUFFIX == ".meta.yaml"


# --------------------------------------------------------------------------------------------
# the format registry


@pytest.fixture
def own_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Formats a test registers are gone after it."""
    monkeypatch.setattr(registry, "_FORMATS", dict(registry._FORMATS))


def read_rows(data: bytes, rel: str, warnings: list[str]) -> list[Document]:
    """A made-up format: one document per line."""
    lines = data.decode().splitlines()
    warnings.append(f"{len(lines)} rows")
    return [Document(doc_id=f"{rel}#{n}", source=rel, text=t) for n, t in enumerate(lines, 1)]


@pytest.mark.usefixtures("own_registry")
def test_a_registered_format_is_listed_read_and_accepted(tmp_path: Path) -> None:
    assert reason(tmp_path, "a.rows", "x") == "unsupported file type '.rows'"
    register_format([".ROWS"], read_rows)
    write(tmp_path, "a.rows", "First row.\nSecond row.\n")
    write(tmp_path, "B.Rows", "Only row.")
    write(tmp_path, "a.rows" + SIDECAR_SUFFIX, "publisher: Tables\n")
    write(tmp_path, "c.cols", "not registered")
    files, problems = list_sources(tmp_path)
    assert [f.name for f in files] == ["B.Rows", "a.rows"] and problems == []
    docs, warnings = read_source(tmp_path / "a.rows", tmp_path)
    assert [(d.doc_id, d.text, d.publisher) for d in docs] == [
        ("a.rows#1", "First row.", "Tables"),
        ("a.rows#2", "Second row.", "Tables"),
    ]
    assert warnings == ["2 rows"]
    assert supported()[-1] == ".rows" and ".rows" in api.supported_suffixes()
    # The checks every format shares still come first.
    assert reason(tmp_path, "empty.rows", "") == "empty file"
    # Unknown endings are refused as before.
    assert reason(tmp_path, "c.cols", "x") == "unsupported file type '.cols'"
    assert reason(tmp_path, "README", "x") == "unsupported file type '(no extension)'"


@pytest.mark.usefixtures("own_registry")
def test_a_format_may_read_the_file_itself(tmp_path: Path) -> None:
    """As the PDF reader does (in a child process): it gets the path, not the bytes."""
    seen: list[Path] = []

    def read_by_path(path: Path, rel: str, warnings: list[str]) -> list[Document]:
        seen.append(path)
        return [Document(doc_id=rel, source=rel, text=path.read_text())]

    register_format([".own"], read_path=read_by_path)
    docs, warnings = read_source(write(tmp_path, "x.own", "Read by path."), tmp_path)
    assert (seen, [d.text for d in docs], warnings) == ([tmp_path / "x.own"], ["Read by path."], [])


@pytest.mark.usefixtures("own_registry")
def test_register_format_refuses_what_could_never_match() -> None:
    for suffix in ("rows", ".", ".tar.gz"):
        with pytest.raises(ValueError, match="file name ending"):
            register_format([suffix], read_rows)
    with pytest.raises(ValueError, match="exactly one"):
        register_format([".rows"])
    with pytest.raises(ValueError, match="exactly one"):
        register_format([".rows"], read_rows, read_path=lambda path, rel, warnings: [])
    assert ".rows" not in supported()


# --------------------------------------------------------------------------------------------
# .txt and decoding


def test_txt_verbatim_with_emoji_and_cyrillic(tmp_path: Path) -> None:
    text = f"  {CYRILLIC}! 👋🏽\r\n{CYRILLIC[::-1]}\tend.\n\n"
    name = f"news/{CYRILLIC[:6]}.txt"
    doc, warnings = read_one(tmp_path, name, text)
    assert doc.text == text  # no stripping, no newline normalization
    assert doc.doc_id == doc.source == name
    assert (doc.title, doc.pages, warnings) == ("", [], [])
    assert doc.page_at(3) is None


def test_txt_bom_stripped(tmp_path: Path) -> None:
    doc, _ = read_one(tmp_path, "a.txt", codecs.BOM_UTF8 + "héllo".encode())
    assert doc.text == "héllo"


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-32", "utf-32-be"])
def test_txt_utf16_utf32_with_bom(tmp_path: Path, codec: str) -> None:
    text = f"Ünïcode 📰 {CYRILLIC}"
    data = text.encode(codec)
    if codec.endswith("-be"):  # the -be codecs write no BOM
        data = (codecs.BOM_UTF16_BE if "16" in codec else codecs.BOM_UTF32_BE) + data
    doc, _ = read_one(tmp_path, "u.txt", data)
    assert doc.text == text


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "empty file"),
        (b" \n\t\r\n ", "empty file"),
        (b"abc\x00def", "binary file (NUL bytes)"),
        (b"MZ\x90\x00\x03\x00\x00\x00\x04", "binary file (NUL bytes)"),
        (b"caf\xe9 au lait", "not valid UTF-8 text (byte 0xe9 at offset 3)"),
        (codecs.BOM_UTF8 + b"ok\xff", "not valid UTF-8 text (byte 0xff at offset 5)"),
        (b"\xed\xa0\x80", "not valid UTF-8 text (byte 0xed at offset 0)"),  # lone surrogate
    ],
)
def test_txt_unusable(tmp_path: Path, content: bytes, expected: str) -> None:
    assert reason(tmp_path, "bad.txt", content) == expected


def test_shell_metacharacters_in_name(tmp_path: Path) -> None:
    name = "a;rm -rf $(x) 'b'.txt"
    doc, _ = read_one(tmp_path, name, "harmless")
    assert (doc.text, doc.source) == ("harmless", name)
    pdf_name = "$(touch pwned) `x` & 'q'.pdf"
    doc, _ = read_one(tmp_path, pdf_name, make_pdf(["Still a PDF"]))
    assert (doc.text, doc.source) == ("Still a PDF", pdf_name)
    assert not (tmp_path / "pwned").exists()


def test_file_too_large(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(source_reader, "MAX_FILE_BYTES", 100)
    assert reason(tmp_path, "big.txt", "x" * 101) == "file too large (101 bytes > 100 bytes limit)"
    assert reason(tmp_path, "big.pdf", make_pdf(["x" * 200])).startswith("file too large")
    doc, _ = read_one(tmp_path, "fits.txt", "x" * 100)
    assert len(doc.text) == 100


def test_unsupported_and_special_files(tmp_path: Path) -> None:
    assert reason(tmp_path, "a.exe", b"MZ").startswith("unsupported file type")
    (tmp_path / "dir.txt").mkdir()
    with pytest.raises(SourceError, match="not a regular file"):
        read_source(tmp_path / "dir.txt", tmp_path)
    with pytest.raises(SourceError, match="No such file"):
        read_source(tmp_path / "missing.txt", tmp_path)


def test_os_error_becomes_source_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "a.txt", "text")

    def deny(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "open", deny)
    with pytest.raises(SourceError) as info:
        read_source(path, tmp_path)
    assert (info.value.path, info.value.reason) == ("a.txt", "Permission denied")


@examples(60)
@given(st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), min_size=1))
def test_txt_round_trip(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, "p.txt", text.encode("utf-8"))
    body = text.removeprefix("\ufeff")  # a leading U+FEFF is read as the BOM
    if not body.strip():
        with pytest.raises(SourceError, match="empty file"):
            read_source(path, tmp_path)
        return
    docs, _ = read_source(path, tmp_path)
    assert docs[0].text == body


# --------------------------------------------------------------------------------------------
# Markdown


def test_markdown_front_matter(tmp_path: Path) -> None:
    body = "# Heading\n\nBody with *markup* and [a link](http://x).\n"
    source = (
        "---\ntitle: Floods hit the valley\npublisher: Daily Planet\nauthor: [Lois Lane, "
        "Clark Kent]\ndate: 2024-03-05\nurl: https://example.com/floods\ntags: [weather]\n"
        "---\n" + body
    )
    doc, _ = read_one(tmp_path, "f.md", source)
    assert doc.text == body
    assert doc.title == "Floods hit the valley"
    assert doc.publisher == "Daily Planet"
    assert doc.author == "Lois Lane, Clark Kent"
    assert doc.date == "2024-03-05"
    assert doc.url == "https://example.com/floods"
    assert doc.extra == {"tags": ["weather"]}


def test_markdown_without_front_matter(tmp_path: Path) -> None:
    text = "Intro line\n\n# The Title #\n\n---\n\nAfter a rule.\n"
    doc, _ = read_one(tmp_path, "plain.markdown", text)
    assert doc.text == text
    assert doc.title == "The Title"
    # A leading thematic break with no closing line is body, not front matter.
    doc, _ = read_one(tmp_path, "rule.md", "---\nJust text.\n")
    assert doc.text == "---\nJust text.\n"


def test_markdown_empty_front_matter_and_crlf(tmp_path: Path) -> None:
    doc, _ = read_one(tmp_path, "e.md", "---\r\n---\r\nBody\r\n")
    assert doc.text == "Body\r\n"
    doc, _ = read_one(tmp_path, "d.md", "---\ndate: 2024-01-02T10:00:00Z\n...\nBody")
    assert (doc.text, doc.date) == ("Body", "2024-01-02")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("---\ntitle: [unclosed\n---\nBody\n", "bad YAML front matter: "),
        ("---\njust a sentence\n---\nBody\n", "bad YAML front matter: expected 'key: value'"),
        ("---\ndate: 2024-02-30\n---\nBody\n", "bad YAML front matter: "),
        ("---\na: &a [*a]\n---\nBody\n", "bad YAML front matter: metadata nested too deeply"),
        ("---\ntitle: T\n---\n\n  \n", "no text after the front matter"),
    ],
)
def test_markdown_bad_front_matter(tmp_path: Path, content: str, expected: str) -> None:
    assert reason(tmp_path, "bad.md", content).startswith(expected)


def test_yaml_error_names_file_line(tmp_path: Path) -> None:
    got = reason(tmp_path, "l.md", "---\ntitle: ok\nauthor: [x\n---\nBody\n")
    assert "line " in got


# --------------------------------------------------------------------------------------------
# Sidecar


def test_sidecar_overrides(tmp_path: Path) -> None:
    write(
        tmp_path,
        "s.md" + SIDECAR_SUFFIX,
        "title: From sidecar\ndate: 2023-12-31\nauthor: ''\nsection: World\nTitle2: x\n",
    )
    doc, _ = read_one(tmp_path, "s.md", "---\ntitle: From front matter\nauthor: Ann\n---\nBody")
    assert doc.title == "From sidecar"
    assert doc.author == "Ann"  # empty sidecar values never override
    assert doc.date == "2023-12-31"
    assert doc.extra == {"section": "World", "Title2": "x"}


def test_sidecar_applies_to_every_format(tmp_path: Path) -> None:
    write(tmp_path, "p.pdf" + SIDECAR_SUFFIX, "publisher: Gazette\nurl: https://g.example/p\n")
    doc, _ = read_one(tmp_path, "p.pdf", make_pdf(["Text"], {"Title": "PDF title"}))
    assert (doc.title, doc.publisher, doc.url) == ("PDF title", "Gazette", "https://g.example/p")
    write(tmp_path, "j.jsonl" + SIDECAR_SUFFIX, "publisher: Wire\n")
    docs, _ = read_source(write(tmp_path, "j.jsonl", '{"text": "a"}\n{"text": "b"}\n'), tmp_path)
    assert [d.publisher for d in docs] == ["Wire", "Wire"]
    write(tmp_path, "empty.txt" + SIDECAR_SUFFIX, "")
    doc, _ = read_one(tmp_path, "empty.txt", "text")
    assert doc.title == ""


@pytest.mark.parametrize("sidecar", ["title: [oops\n", "- a list\n", b"title: \xff\n"])
def test_malformed_sidecar(tmp_path: Path, sidecar: str | bytes) -> None:
    write(tmp_path, "x.txt" + SIDECAR_SUFFIX, sidecar)
    with pytest.raises(SourceError) as info:
        read_source(write(tmp_path, "x.txt", "text"), tmp_path)
    assert info.value.path == "x.txt.meta.yaml"


# --------------------------------------------------------------------------------------------
# HTML

ARTICLE_HTML = """<!doctype html>
<html><head>
<title>Page title | Site</title>
<meta property="og:title" content="  The   OG title ">
<meta property="og:site_name" content="The Example Times">
<meta name="author" content="Jane Doe">
<meta property="article:published_time" content="2024-05-06T07:08:09+02:00">
<meta property="og:url" content="https://example.com/og">
<link rel="canonical" href="https://example.com/canonical">
<style>p { color: red }</style>
<script>var leaked = "SCRIPT TEXT";</script>
</head><body>
<header>Site header</header>
<nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article>
  <h1>Big   headline</h1>
  <p>First paragraph with <b>bold</b> and <a href="#">a link</a>.</p>
  <p>Second&nbsp;paragraph<br>after a break.</p>
  <div hidden>hidden attribute</div>
  <div aria-hidden="true">aria hidden</div>
  <p style="display: none">inline display none</p>
  <span style="VISIBILITY:hidden">inline visibility hidden</span>
  <script>alert(1)</script>
  <noscript>enable js</noscript>
  <!-- a comment -->
  <ul><li>item one</li><li>item two</li></ul>
  <table><tr><td>cell1</td><td>cell2</td></tr></table>
  <form><button>Subscribe</button><input value="email"></form>
</article>
<aside>Related stories</aside>
<footer>Copyright</footer>
</body></html>
"""


def test_html_article(tmp_path: Path) -> None:
    doc, _ = read_one(tmp_path, "page.html", ARTICLE_HTML)
    assert doc.text.split("\n\n") == [
        "Big headline",
        "First paragraph with bold and a link.",
        "Second paragraph",
        "after a break.",
        "item one",
        "item two",
        "cell1 cell2",
    ]
    assert doc.title == "The OG title"
    assert doc.publisher == "The Example Times"
    assert doc.author == "Jane Doe"
    assert doc.date == "2024-05-06"
    assert doc.url == "https://example.com/canonical"
    for junk in ["alert(1)", "SCRIPT", "color", "hidden", "Home", "Site header", "Copyright",
                 "Related", "Subscribe", "enable js", "comment", "Page title"]:  # fmt: skip
        assert junk not in doc.text


NEWS_PAGE = """<!doctype html>
<html lang="en-GB"><head>
<title>Harbour bridge reopens after two years | The Kelvedon Courier</title>
<meta property="og:site_name" content="The Kelvedon Courier">
<meta name="author" content="Imogen Tresillian">
<meta property="article:published_time" content="2025-03-04T09:30:00+00:00">
<link rel="canonical" href="https://courier.example/2025/03/04/harbour-bridge">
</head><body>
<nav><a href="/">Home</a> <a href="/news">News</a> <a href="/sport">Sport</a></nav>
<article>
<h1>Harbour bridge reopens after two years</h1>
<p>The swing bridge over Kelvedon harbour reopened on Tuesday after a two-year repair that
cost 4.2 million pounds, the county council said.</p>
<p>Engineers replaced the bridge's rusted turning gear and repainted its steel deck, which
had been closed to traffic since a lorry struck a support in the winter of 2023.</p>
<p style="display:none">Hidden text that no reader of the page can see.</p>
<p>The harbour master, Orla Pennant, said fishing boats would again be able to pass at high
tide from Thursday, and that the first opening drew a crowd of several hundred people.</p>
</article>
<aside><h2>Related stories</h2><ul><li><a href="/a">Ferry fares rise in spring</a></li>
<li><a href="/b">Lifeboat crew honoured</a></li></ul></aside>
<footer>&copy; 2025 The Kelvedon Courier. All rights reserved.</footer>
</body></html>
"""


def test_html_through_trafilatura(tmp_path: Path) -> None:
    doc, _ = read_one(tmp_path, "bridge.html", NEWS_PAGE)
    paragraphs = doc.text.split("\n\n")
    assert paragraphs[0] == "Harbour bridge reopens after two years"
    assert paragraphs[1].startswith("The swing bridge over Kelvedon harbour reopened")
    assert paragraphs[-1].endswith("drew a crowd of several hundred people.")
    assert len(paragraphs) == 4  # the headline and the three visible paragraphs
    for junk in ("Home", "Sport", "Related", "Ferry", "rights reserved", "Hidden"):
        assert junk not in doc.text
    assert doc.chrome_removed  # the chrome rules of `clean` are not run again on it
    assert (doc.title, doc.author, doc.date, doc.publisher, doc.url) == (
        "Harbour bridge reopens after two years",
        "Imogen Tresillian",
        "2025-03-04",
        "The Kelvedon Courier",
        "https://courier.example/2025/03/04/harbour-bridge",
    )
    assert doc.extra == {"language": "en-GB"}


def test_html_sidecar_overrides_trafilatura(tmp_path: Path) -> None:
    write(tmp_path, "bridge.html" + SIDECAR_SUFFIX, "title: Bridge\ndate: 2025-03-05\nauthor: ''\n")
    doc, _ = read_one(tmp_path, "bridge.html", NEWS_PAGE)
    assert (doc.title, doc.date, doc.author) == ("Bridge", "2025-03-05", "Imogen Tresillian")
    assert doc.publisher == "The Kelvedon Courier"  # fields the sidecar leaves out stay


@pytest.fixture
def no_trafilatura(monkeypatch: pytest.MonkeyPatch) -> None:
    """trafilatura finds no body on any page: every page takes the fallback reader."""
    monkeypatch.setattr(webpage, "_trafilatura", lambda html, fast: None)


@pytest.mark.usefixtures("no_trafilatura")
def test_html_fallback_when_trafilatura_finds_nothing(tmp_path: Path) -> None:
    doc, _ = read_one(tmp_path, "bridge.html", NEWS_PAGE)
    assert doc.text.startswith("Harbour bridge reopens after two years\n\nThe swing bridge")
    assert "Hidden" not in doc.text and "Ferry" not in doc.text
    assert not doc.chrome_removed  # so `clean` removes what chrome the fallback kept
    assert doc.title == "Harbour bridge reopens after two years | The Kelvedon Courier"
    assert (doc.date, doc.publisher) == ("2025-03-04", "The Kelvedon Courier")


def test_html_fallback_when_trafilatura_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fails(html: str, fast: bool) -> None:
        raise AssertionError  # as trafilatura does on some malformed pages

    monkeypatch.setattr(webpage, "_trafilatura", fails)
    doc, _ = read_one(tmp_path, "bridge.html", NEWS_PAGE)
    assert "The swing bridge" in doc.text and not doc.chrome_removed


def test_an_xhtml_page_with_an_xml_declaration_reads_as_html_without_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webpage, "_trafilatura", lambda html, fast: None)  # the bs4 path
    page = '<?xml version="1.0" encoding="utf-8"?>\n' + NEWS_PAGE
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        doc, _ = read_one(tmp_path, "bridge.xhtml.html", page)
    assert "The swing bridge" in doc.text


def test_html_too_much_markup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webpage, "MAX_TAGS", 10)
    page = "<html><body>" + "<p>Word.</p>" * 9 + "</body></html>"
    assert reason(tmp_path, "m.html", page) == "too much markup for one article (11 tags, limit 10)"


def _attributes(tags: int, per_tag: int) -> str:
    attrs = " ".join(f'a{i}="1"' for i in range(per_tag))
    divs = "".join(f"<div {attrs}><p>Paragraph {k} of the page. It has words.</p></div>"
                   for k in range(tags))  # fmt: skip
    return f"<html><body>{divs}</body></html>"


READ_ONE = """
import sys
from pathlib import Path
from rag.errors import SourceError
from rag.formats import read_source
try:
    read_source(Path(sys.argv[1]), Path(sys.argv[2]))
except SourceError as e:
    print(e.reason)
"""


def test_html_many_attributes_are_refused_before_parsing(tmp_path: Path) -> None:
    # One <div> with 100,000 attributes took lxml, jusText and htmldate over 300 s; read in
    # a child process so that a regression fails in seconds instead of hanging the suite.
    page = write(tmp_path, "attrs.html", _attributes(1, 100_000))
    done = subprocess.run(
        [sys.executable, "-c", READ_ONE, str(page), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout.strip() == (
        "too much markup for one article (over 1,000 attributes on one tag)"
    ), done.stderr
    many = webpage.MAX_ATTRIBUTES // 1000 + 1
    assert reason(tmp_path, "many.html", _attributes(many, 1000)) == (
        f"too much markup for one article ({many * 1000:,} attributes, limit 300,000)"
    )


def test_markup_is_counted_outside_scripts_styles_and_comments() -> None:
    # A script's "i<n" opens no tag: counted as markup, its loop held 2,000 "attributes".
    script = "<script>for (var i = 0; i<n; i++) { " + "x = 1; " * 2000 + "}</script>"
    page = f"<html><body>{script}<style>a<b {{}}</style><!-- <p a b> --><p>Text.</p></body></html>"
    assert webpage.check_markup(page, "p.html") == 3  # html, body, p
    assert webpage.markup_only("<p>a</p><script>x<y") == "<p>a</p>"  # left open: dropped
    assert webpage.markup_only("<!-- never closed <p>") == ""


@pytest.mark.skipif(not (SHARED / "bench" / "article_extraction").is_dir(), reason="no shared/")
def test_no_saved_news_page_of_the_benchmark_is_refused_for_its_markup() -> None:
    import gzip

    pages = sorted((SHARED / "bench" / "article_extraction" / "html").glob("*.html.gz"))
    assert len(pages) >= 90
    for path in pages:
        html = gzip.decompress(path.read_bytes()).decode("utf-8", errors="replace")
        webpage.check_markup(html, path.name)  # raises SourceError when refused


def test_html_a_page_that_reads_too_long_is_skipped_and_the_next_is_read(
    fake_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag.indexing import build_index

    # Within every markup limit, but about 8 s of parsing: only the time limit stops it.
    (fake_settings.sources / "slow.html").write_text(_attributes(300, 1000))
    monkeypatch.setattr(html_reader, "HTML_TIMEOUT_S", 1)
    report = build_index(fake_settings)
    assert dict(report.skipped) == {
        "slow.html": "reading the page took over 1 s (too much markup?)"
    }
    assert report.added > 0  # the other files were indexed
    monkeypatch.setattr(html_reader, "HTML_TIMEOUT_S", 60)
    body = "".join(f"<p>The swing bridge number {n} opened in May. It has lanes.</p>"
                   for n in range(2000))  # fmt: skip
    assert len(body) > html_reader.IN_PROCESS_MAX_CHARS  # read by a new child process
    (fake_settings.sources / "big.html").write_text(f"<html><body>{body}</body></html>")
    assert build_index(fake_settings).added == 1
    assert "big.html" in {d["source"] for d in api.documents(fake_settings)}


@pytest.mark.usefixtures("no_trafilatura")
def test_html_metadata_fallbacks(tmp_path: Path) -> None:
    html = """<html><head><title> Only   title </title>
    <meta property="article:author" content="https://facebook.com/someone">
    <meta property="og:url" content="https://example.com/og-only"></head>
    <body><h1>H1 text</h1><p>By <a rel="author" href="/a">Sam Byline</a></p>
    <time datetime="2021-07-08">July 8</time><p>Body text.</p></body></html>"""
    doc, _ = read_one(tmp_path, "f.htm", html)
    assert doc.title == "Only title"
    assert doc.author == "Sam Byline"
    assert doc.date == "2021-07-08"
    assert doc.url == "https://example.com/og-only"
    doc, _ = read_one(tmp_path, "g.html", "<body><h1>Headline</h1><p>x</p></body>")
    assert doc.title == "Headline"
    doc, _ = read_one(
        tmp_path, "h.html", '<meta name="date" content="Tue, 02 Jan 2024 10:00:00 GMT"><p>x</p>'
    )
    assert doc.date == "2024-01-02"


@pytest.mark.usefixtures("no_trafilatura")
def test_html_small_article_is_not_preferred(tmp_path: Path) -> None:
    story = "<p>" + "The main story text is long. " * 20 + "</p>"
    html = f"<body><div>{story}</div><article><p>Teaser</p></article></body>"
    doc, _ = read_one(tmp_path, "t.html", html)
    assert "main story" in doc.text
    assert "Teaser" in doc.text
    html = f"<body><p>Menu</p><main>{story}</main></body>"
    doc, _ = read_one(tmp_path, "m.html", html)
    assert "Menu" not in doc.text
    assert doc.text.startswith("The main story")


def test_html_deeply_nested(tmp_path: Path) -> None:
    depth = 100_000
    html = "<html><body>" + "<div>" * depth + "deep text" + "</div>" * depth + "<p>after</p>"
    doc, _ = read_one(tmp_path, "deep.html", html)
    assert doc.text == "deep text\n\nafter"
    assert not doc.chrome_removed  # too deep for trafilatura's parser: the fallback read it


@pytest.mark.parametrize(
    "html",
    [
        "<html><body>&nbsp; &#160;</body></html>",
        "<html><head><title>T</title></head><body><script>x()</script></body></html>",
        "<!-- only a comment -->",
        "<html><body><nav>Home News</nav><aside>Most read</aside><footer>About</footer></body>",
    ],
)
def test_html_no_text(tmp_path: Path, html: str) -> None:
    assert reason(tmp_path, "n.html", html) == "no text found"


def test_html_declared_charset(tmp_path: Path) -> None:
    html = f'<meta charset="windows-1251"><p>{CYRILLIC}</p>'.encode("cp1251")
    doc, _ = read_one(tmp_path, "c.html", html)
    assert doc.text == CYRILLIC
    assert reason(tmp_path, "u.html", b"<p>caf\xe9</p>").startswith("not valid UTF-8 text")


@examples(40)
@given(st.text(st.characters(blacklist_categories=["Cs", "Cc"]), min_size=1))
def test_html_text_is_escaped_text(tmp_path: Path, text: str) -> None:
    from html import escape

    path = write(tmp_path, "h.html", f"<p>{escape(text)}</p><p>end</p>")
    docs, _ = read_source(path, tmp_path)
    expected = " ".join(text.split())
    assert docs[0].text == (f"{expected}\n\nend" if expected else "end")


# --------------------------------------------------------------------------------------------
# PDF


def test_pdf_pages_and_metadata(tmp_path: Path) -> None:
    data = make_pdf(
        ["First page text.", "Second page (with parens)."],
        {"Title": "A PDF Title", "Author": "P. Writer", "CreationDate": "D:20230415120000Z"},
    )
    doc, warnings = read_one(tmp_path, "two.pdf", data)
    assert doc.text == "First page text.\n\nSecond page (with parens)."
    assert doc.pages == [(0, 1), (18, 2)]
    assert (doc.title, doc.author, doc.date) == ("A PDF Title", "P. Writer", "2023-04-15")
    assert doc.page_at(0) == 1
    assert doc.page_at(15) == 1
    assert doc.page_at(doc.text.index("Second")) == 2
    assert doc.page_at(len(doc.text) - 1) == 2
    assert warnings == []


def test_pdf_empty_page_keeps_numbers(tmp_path: Path) -> None:
    doc, _ = read_one(tmp_path, "gap.pdf", make_pdf(["", "Page two", "", "Page four"]))
    assert doc.text == "Page two\n\nPage four"
    assert doc.pages == [(0, 2), (10, 4)]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"MZ\x90\x00" + b"\x00" * 200 + b"This program cannot be run in DOS mode", "not a PDF"),
        (b"just text, not a pdf", "not a PDF (no %PDF header)"),
        (make_pdf([""]), "PDF has no extractable text (scanned?)"),
        (b"%PDF-1.4\ngarbage garbage\n", "corrupt PDF: "),
    ],
)
def test_pdf_unusable(tmp_path: Path, content: bytes, expected: str) -> None:
    assert reason(tmp_path, "bad.pdf", content).startswith(expected)


def test_pdf_truncated(tmp_path: Path) -> None:
    data = make_pdf(["Some text here", "More text there"])
    got = reason(tmp_path, "cut.pdf", data[: len(data) // 3])
    assert got.startswith(("corrupt PDF: ", "PDF has no extractable text"))


def test_pdf_encrypted(tmp_path: Path) -> None:
    import io

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf(["Secret text"]))))
    writer.encrypt("secret", algorithm="RC4-128")
    locked = io.BytesIO()
    writer.write(locked)
    assert reason(tmp_path, "locked.pdf", locked.getvalue()).startswith("encrypted PDF")

    # Encrypted with an empty user password (permissions only): opens fine.
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf(["Open text"]))))
    writer.encrypt("", owner_password="owner", algorithm="RC4-128")
    opened = io.BytesIO()
    writer.write(opened)
    doc, _ = read_one(tmp_path, "open.pdf", opened.getvalue())
    assert doc.text == "Open text"


def test_pdf_time_and_memory_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "slow.pdf", make_pdf(["x"]))
    monkeypatch.setattr(pdf_reader, "PDF_TIMEOUT_S", 0.001)
    with pytest.raises(SourceError, match="PDF took too long to parse"):
        read_source(path, tmp_path)
    monkeypatch.setattr(pdf_reader, "PDF_TIMEOUT_S", 60)
    if sys.platform.startswith("linux"):
        monkeypatch.setattr(pdf_reader, "PDF_MAX_MEMORY", 1)  # no new allocation can succeed
        with pytest.raises(SourceError, match="memory"):
            read_source(path, tmp_path)


def test_pdf_child_is_a_script_that_imports_nothing_from_rag() -> None:
    """The child runs by path in a fresh interpreter, so it starts fast whatever
    `rag/__init__` pulls in; imported (by a linter or a test) it runs nothing."""
    text = pdf_reader.CHILD.read_text(encoding="utf-8")
    imported = {
        line.split()[1].split(".")[0]
        for line in text.splitlines()
        if line.lstrip().startswith(("import ", "from "))
    }
    assert "pypdf" in imported and "resource" in imported and "rag" not in imported
    assert text.rstrip().endswith('if __name__ == "__main__":\n    main()')


# --------------------------------------------------------------------------------------------
# JSONL


def test_jsonl_records(tmp_path: Path) -> None:
    lines = [
        json.dumps(
            {
                "id": "a1",
                "title": "T1",
                "text": "Text one 👋",
                "url": "https://x/1",
                "date": "2024-02-03T04:05:06Z",
                "publisher": "P",
                "author": "A",
                "section": "World",
                "tags": ["x", "y"],
            }
        ),
        "",
        json.dumps({"text": "No id here\r\nverbatim"}),
        json.dumps({"id": 7, "text": "Numeric id", "title": None}),
    ]
    docs, warnings = read_source(write(tmp_path, "feed.jsonl", "\n".join(lines) + "\n"), tmp_path)
    assert warnings == []
    assert [d.doc_id for d in docs] == ["feed.jsonl#a1", "feed.jsonl#3", "feed.jsonl#7"]
    first = docs[0]
    assert (first.title, first.url, first.date, first.publisher, first.author) == (
        "T1", "https://x/1", "2024-02-03", "P", "A"
    )  # fmt: skip
    assert first.text == "Text one 👋"
    assert first.extra == {"section": "World", "tags": ["x", "y"]}
    assert docs[1].text == "No id here\r\nverbatim"
    assert all(d.source == "feed.jsonl" for d in docs)


def test_jsonl_broken_lines(tmp_path: Path) -> None:
    content = "\n".join(
        [
            '{"id": "1", "text": "good one"}',
            "{not json",
            "[1, 2]",
            '{"id": "x", "text": ""}',
            '{"id": "y"}',
            '{"id": {"a": 1}, "text": "bad id"}',
            '{"id": "1", "text": "duplicate"}',
            '{"id": "2", "text": "good two"}',
            "[" * 100_000,
        ]
    )
    docs, warnings = read_source(write(tmp_path, "mixed.jsonl", content), tmp_path)
    assert [d.text for d in docs] == ["good one", "good two"]
    assert [w.split(":")[0] for w in warnings] == [f"line {n}" for n in (2, 3, 4, 5, 6, 7, 9)]
    assert warnings[0].startswith("line 2: not valid JSON")
    assert "duplicate id '1' (first on line 1)" in warnings[5]


def test_jsonl_all_broken(tmp_path: Path) -> None:
    got = reason(tmp_path, "bad.jsonl", "nope\n{}\n")
    assert got.startswith("no documents (every line was invalid; line 1: not valid JSON")
    assert reason(tmp_path, "blank.jsonl", "\n\n  \n") == "empty file"


@examples(40)
@given(st.lists(st.text(min_size=1).filter(str.strip), min_size=1, max_size=5))
def test_jsonl_round_trip(tmp_path: Path, texts: list[str]) -> None:
    # Raw (unescaped) non-ASCII, including U+2028 and friends, which must not split a line.
    content = "\n".join(json.dumps({"text": t}, ensure_ascii=False) for t in texts)
    docs, warnings = read_source(write(tmp_path, "r.jsonl", content), tmp_path)
    assert [d.text for d in docs] == texts
    assert warnings == []


# --------------------------------------------------------------------------------------------
# dates


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-05", "2024-03-05"),
        ("2024-03-05T23:30:00-05:00", "2024-03-05"),
        ("D:20230415120000+02'00'", "2023-04-15"),
        ("D:2023", "2023"),
        ("Tue, 02 Jan 2024 10:00:00 GMT", "2024-01-02"),
        ("March 5, 2024", "2024-03-05"),
        ("5 March 2024", "2024-03-05"),
        ("2024-13-45", "2024-13-45"),
        ("sometime last week", "sometime last week"),
        (20240305, "2024-03-05"),
        (None, ""),
    ],
)
def test_iso_date(value: object, expected: str) -> None:
    assert iso_date(value) == expected


@examples(200)
@given(st.text())
def test_iso_date_never_raises(text: str) -> None:
    assert isinstance(iso_date(text), str)
