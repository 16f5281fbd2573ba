"""Parsing untrusted XML (feeds, sitemaps) safely.

Pure: no Scrapy. The parser never loads a DTD, never touches the network,
never substitutes entities and keeps libxml2's limits on huge documents.
Documents that declare entities at all (``<!ENTITY``: the "billion laughs"
bomb, external entities pointing at ``file:///etc/passwd``) are refused
outright: feeds and sitemaps have no legitimate use for them.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from crawler.extract.decoding import NotText, gunzip

_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)


_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_HTML = re.compile(rb"^\s*(?:<!doctype\s+html|<html\b|<head\b|<body\b)", re.IGNORECASE)


class XMLError(ValueError):
    """The bytes are not XML this crawler will read; ``str(exc)`` says why."""


def listing_body(
    body: bytes, max_size: int, error: type[ValueError], noun: str, formats: str = ""
) -> bytes:
    """A feed's or sitemap's bytes, gunzipped (at most ``max_size``), BOM and leading blanks gone.

    Raises ``error`` with a reason a person reads for an empty body, a bad or
    oversized gzip stream and an HTML page (``noun`` names the listing, "feed"
    or "sitemap"; ``formats`` follows it in the HTML page's reason).
    """
    if body[:2] == b"\x1f\x8b":
        try:
            body = gunzip(body, max_size)
        except NotText as exc:
            raise error(str(exc)) from None
    stripped = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        raise error(f"empty response: no {noun}")
    if _HTML.match(stripped[:1024]):
        raise error(f"an HTML page, not a {noun}{formats}")
    return stripped


def looks_like_xml(body: bytes) -> bool:
    """Whether stripped ``body`` starts like an XML document (``<`` or a UTF-16 BOM)."""
    return body[:1] == b"<" or body[:2] in _UTF16_BOMS


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=True,
        remove_pis=True,
        recover=False,
    )


def parse_xml(body: bytes) -> Any:
    """The root element of ``body``, or :class:`XMLError` with a reason."""
    body = body.lstrip(b" \t\r\n")
    if not body:
        raise XMLError("empty document")
    if _DOCTYPE.search(body[:65536]) and _ENTITY_DECL.search(body):
        raise XMLError(
            "the document declares XML entities (<!ENTITY>), which are never expanded "
            "(entity bombs and external entities are refused)"
        )
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError as exc:
        raise XMLError(f"not well-formed XML ({exc})") from None
    except ValueError as exc:
        raise XMLError(f"not readable XML ({exc})") from None
    if root is None:
        raise XMLError("empty document")
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise XMLError(
            "the document declares XML entities (<!ENTITY>), which are never expanded "
            "(entity bombs and external entities are refused)"
        )
    return root


def local(tag: Any) -> str:
    """``{namespace}name`` -> ``name`` (comments and PIs give ``""``)."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def child(el: Any, name: str) -> Any | None:
    """The first child element whose local name is ``name``."""
    for c in el:
        if local(c.tag) == name:
            return c
    return None


def children(el: Any, name: str) -> list[Any]:
    return [c for c in el if local(c.tag) == name]


def text_of(el: Any | None) -> str | None:
    """Whitespace-normalised text content of ``el`` (``None`` when empty)."""
    if el is None:
        return None
    text = " ".join("".join(el.itertext()).split())
    return text or None


def child_text(el: Any, name: str) -> str | None:
    return text_of(child(el, name))
