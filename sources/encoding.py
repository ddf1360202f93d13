"""Which charset a feed's bytes are really in, when nothing trustworthy says so.

feedparser follows the HTTP charset and the XML declaration, and without either (or with a
wrong one) falls back to windows-1252: Chinese feeds come out as mojibake (``²»¹éÒÆÃñ``).
feedparser would ask chardet, which is not a dependency here. Chinese legacy feeds are nearly
always GB2312/GBK/GB18030 or Big5, so we only decide between those two families, by how many of
the decoded ideographs are *frequent* in that charset: Big5 bytes read as GBK (and the reverse)
decode without error but land on rare characters.
"""

from __future__ import annotations

import codecs
import re

_XML_DECL = re.compile(rb"^<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_HTTP_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._-]+)", re.IGNORECASE)
_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE,
         codecs.BOM_UTF32_BE)
# Frequent-character blocks: GB2312 level 1 (3,755 common hanzi) and Big5 level 1 (5,401).
_GB_FREQUENT = (0xB0A1, 0xD7F9)
_BIG5_FREQUENT = (0xA440, 0xC67E)
# Real Chinese text scores 0.8-1.0 in its own charset; latin-1 or the wrong CJK charset, < 0.3.
MIN_FREQUENT_SHARE = 0.5


def declared_charset(body: bytes, content_type: str | None) -> str | None:
    """The charset the HTTP header or the XML declaration claims (lower-case), if any."""
    if content_type and (header := _HTTP_CHARSET.search(content_type)):
        return header.group(1).lower()
    if declaration := _XML_DECL.match(body[:200].lstrip()):
        return declaration.group(1).decode("ascii").lower()
    return None


def _decoded(body: bytes, charset: str) -> str | None:
    try:
        return body.decode(charset)
    except (UnicodeDecodeError, LookupError):
        return None


def _decodes(body: bytes, charset: str) -> bool:
    return _decoded(body, charset) is not None


def _frequent_share(text: str, charset: str, block: tuple[int, int]) -> float:
    ideographs = [c for c in text if "\u4e00" <= c <= "\u9fff"]
    if not ideographs:
        return 0.0
    frequent = 0
    for char in ideographs:
        try:
            code = int.from_bytes(char.encode(charset), "big")
        except UnicodeEncodeError:
            continue
        frequent += block[0] <= code <= block[1]
    return frequent / len(ideographs)


def guess_chinese_charset(body: bytes) -> str | None:
    """'gb18030' or 'big5' when the bytes read as one of them, the likelier first; else None."""
    scores: list[tuple[float, str]] = []
    for charset, table, block in (("gb18030", "gb2312", _GB_FREQUENT),
                                  ("big5", "big5", _BIG5_FREQUENT)):
        text = _decoded(body, charset)  # decoded once: bodies run to megabytes
        if text is not None:
            scores.append((_frequent_share(text, table, block), charset))
    if not scores:
        return None
    share, charset = max(scores, key=lambda pair: pair[0])  # ties keep gb18030 (listed first)
    return charset if share >= MIN_FREQUENT_SHARE else None


def charset_override(body: bytes, content_type: str | None) -> str | None:
    """A charset to force when the declared one is missing or wrong; None to trust the bytes.

    BOMs are left to feedparser (they are unambiguous); a declaration that decodes the bytes
    cleanly is trusted; otherwise UTF-8 if it fits, else the likelier Chinese charset.
    """
    if body.startswith(_BOMS):
        return None
    declared = declared_charset(body, content_type)
    if declared and _decodes(body, declared):
        return None
    if _decodes(body, "utf-8"):
        return "utf-8" if declared else None
    return guess_chinese_charset(body)
