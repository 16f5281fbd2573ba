"""Turn fetched bytes into text, or say in plain words why they are not text.

Pure: no Scrapy. Handles gzip (bounded, against gzip bombs), byte-order
marks, charsets declared by the transport or in an HTML ``<meta>`` tag, and
detection as a last resort.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
import zlib
from dataclasses import dataclass

from w3lib.encoding import html_body_declared_encoding, resolve_encoding

#: decompressed size limit for ``.gz`` files and gzip-wrapped bodies.
MAX_DECOMPRESSED = 20 * 1024 * 1024

_MAGIC = {
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"PK\x03\x04": "a ZIP archive",
    b"RIFF": "a RIFF (WebP/WAV/AVI) file",
    b"\x00\x00\x00": "binary data",
    b"ID3": "an MP3 file",
    b"OggS": "an Ogg file",
    b"\x1a\x45\xdf\xa3": "a WebM/Matroska video",
}


class NotText(Exception):
    """The bytes are not a text document; ``str(exc)`` says why."""


@dataclass
class Decoded:
    text: str
    encoding: str


def gunzip(body: bytes, limit: int = MAX_DECOMPRESSED) -> bytes:
    """Decompress gzip data, refusing more than ``limit`` bytes of output."""
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = d.decompress(body, limit + 1)
    except zlib.error as exc:
        raise NotText(f"corrupt gzip data ({exc})") from None
    if len(out) > limit or d.unconsumed_tail:
        raise NotText(f"gzip data expands to more than {limit // (1024 * 1024)} MiB (a gzip bomb?)")
    return out


#: control bytes that do not occur in text (tab, newline, form feed and carriage return do)
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13))


def _control_ratio(sample: bytes) -> float:
    if not sample:
        return 0.0
    # what deleting them removes, counted in C (a loop over the bytes costs 0.3 ms a page)
    bad = len(sample) - len(sample.translate(None, _CONTROL))
    return bad / len(sample)


def _sniff_binary(body: bytes) -> str | None:
    for magic, what in _MAGIC.items():
        if body.startswith(magic):
            return what
    return None


def decode(
    body: bytes,
    *,
    declared_encoding: str | None = None,
    is_html: bool = False,
) -> Decoded:
    """Decode ``body`` to text or raise :class:`NotText` with a reason."""
    if body[:2] == b"\x1f\x8b":
        body = gunzip(body)
    if not body.strip():
        raise NotText(
            "empty document: no bytes of content" if not body else "empty document: only whitespace"
        )
    what = _sniff_binary(body)
    if what and what != "binary data":
        raise NotText(f"binary content ({what}), not a text page")

    # Byte-order marks win over anything declared.
    for bom, enc in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if body.startswith(bom):
            try:
                return _checked(Decoded(body.decode(enc), enc))
            except UnicodeError:
                break

    sample = body[:8192]
    ratio = _control_ratio(sample)
    candidates: list[str] = []
    if declared_encoding:
        candidates.append(declared_encoding)
    if is_html or b"<" in sample[:1024]:
        meta = html_body_declared_encoding(sample)
        if meta:
            candidates.append(meta)
    candidates.append("utf-8")

    for candidate in candidates:
        resolved = resolve_encoding(candidate)
        if not resolved:
            continue
        if _single_byte(resolved) and _is_utf8(body):
            # A page declared as Latin-1 or Windows-1252 whose bytes are valid,
            # non-ASCII UTF-8 is UTF-8 (a server default or a template's stale
            # meta tag): text in a single-byte charset almost never forms valid
            # multi-byte UTF-8 sequences, so the declared decoding would give
            # mojibake ("sanciÃ³n").
            resolved = "utf-8"
        try:
            text = body.decode(resolved)
        except (UnicodeError, LookupError):
            # UnicodeError, not only UnicodeDecodeError: a charset Python
            # knows but cannot decode text with ("undefined", "punycode").
            continue
        if ratio > 0.05:
            break
        return _checked(Decoded(text, resolved))

    if ratio > 0.05:
        raise NotText(
            f"binary content, undecodable as text: {ratio:.0%} of the first bytes are"
            " control characters"
        )
    detected = _detect(body)
    if detected:
        return _checked(detected)
    raise NotText("undecodable text: not valid UTF-8, and no charset could be detected")


def _single_byte(encoding: str) -> bool:
    """A one-byte-per-character charset (ISO-8859-*, Windows-125*, KOI8, Mac)."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return False
    return name.startswith(("iso8859", "latin", "cp125", "windows-125", "koi8", "mac-"))


def _is_utf8(body: bytes) -> bool:
    """Valid UTF-8 with at least one multi-byte sequence."""
    if body.isascii():
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_ALLOWED = frozenset("\t\n\r\f\u00ad\u200b\u200c\u200d\u200e\u200f\u2060")


def _checked(decoded: Decoded) -> Decoded:
    """Refuse a decoding that yields mostly control, unassigned or private characters."""
    sample = decoded.text[:4000]
    if not sample or sample.isascii() and not _ASCII_CONTROL.search(sample):
        return decoded
    bad = sum(
        1
        for ch in sample
        if ch == "\ufffd"
        or (unicodedata.category(ch) in ("Cc", "Cf", "Cn", "Co", "Cs") and ch not in _ALLOWED)
    )
    if bad / len(sample) > 0.05:
        raise NotText(
            f"undecodable text: decoding as {decoded.encoding} gives {bad / len(sample):.0%}"
            " control or unassigned characters (binary data?)"
        )
    return decoded


def _detect(body: bytes) -> Decoded | None:
    from charset_normalizer import from_bytes

    best = from_bytes(body[:200_000]).best()
    if best is None or best.chaos > 0.2:
        return None
    return Decoded(str(best), best.encoding)
