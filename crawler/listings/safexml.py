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

_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)


class XMLError(ValueError):
    """The bytes are not XML this crawler will read; ``str(exc)`` says why."""


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
