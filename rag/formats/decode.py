"""Bytes to text, strictly: UTF-8, UTF-16/32 when a BOM says so, or an HTML page's charset.

`decode(data, rel, html=False)` returns the text or raises `SourceError` naming the byte
and offset at fault; NUL bytes mean a binary file. `nonblank` refuses text with nothing
but whitespace ("empty file").

Left out on purpose: guessing legacy encodings (a wrong guess would index mojibake that
quotes could never match), and any change to the text (later offsets map back to it).
"""

from __future__ import annotations

import codecs
import re

from rag.errors import SourceError

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16: its BOM starts with the UTF-16-LE one
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_HTML_CHARSET = re.compile(
    rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE
)


def decode(data: bytes, rel: str, html: bool = False) -> str:
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


def nonblank(text: str, rel: str) -> str:
    """`text`, unless it holds nothing but whitespace ("empty file")."""
    if not text.strip():
        raise SourceError(rel, "empty file")
    return text
