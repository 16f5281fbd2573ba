"""Items that flow from spiders through the pipelines.

Spiders yield :class:`Page` (raw bytes as fetched) or :class:`Failure` (a
request that produced nothing). :class:`crawler.pipelines.ExtractPipeline`
turns each page into an :class:`Article` or a :class:`Failure`;
:class:`crawler.pipelines.CorpusPipeline` stores both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Page:
    """A fetched document, before any cleaning."""

    url: str
    body: bytes
    #: ``text/html``, ``text/plain`` or whatever the server said.
    content_type: str | None = None
    #: charset declared by the transport (HTTP header), if any.
    declared_encoding: str | None = None
    http_status: int | None = None
    #: metadata known before download (feed entry title, date, ...), used as
    #: fallbacks for what the page itself does not say.
    hints: dict[str, Any] = field(default_factory=dict)
    #: the response's validators, for conditional re-fetches (refresh=1).
    etag: str | None = None
    last_modified: str | None = None
    #: when the page was fetched, if not now (a web archive's record date).
    fetched_at: str | None = None
    #: the URL first asked for, when redirects led to ``url``.
    requested_url: str | None = None


@dataclass
class Article:
    """A clean article, ready for dedup and storage."""

    url: str
    title: str
    text: str
    content_hash: str
    author: str | None = None
    published: str | None = None
    site: str | None = None
    language: str | None = None
    description: str | None = None
    word_count: int = 0
    #: the URL the page itself names as canonical, if any.
    canonical_url: str | None = None
    #: every URL this article was reached through, besides ``url``.
    fetched_url: str | None = None
    #: the page as fetched, zlib-compressed (``CORPUS_KEEP_RAW``), for reclean.
    raw: bytes | None = None
    raw_content_type: str | None = None
    raw_encoding: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    #: the publication date is a heuristic guess from the page text (not in
    #: its markup nor its feed): story grouping does not trust it.
    published_guessed: bool = False
    #: when the page was fetched, if not now (a web archive's record date).
    fetched_at: str | None = None
    #: the URL first asked for, when redirects led to the page: recorded as a
    #: ``url`` duplicate of the article, so that the URL a user gave is found.
    requested_url: str | None = None
    #: the page's template (a hash of its DOM skeleton,
    #: :func:`crawler.extract.siteprofile.template_signature`): site profiles
    #: learn chrome per template. Not a column of ``articles``.
    template: str | None = None


@dataclass
class Failure:
    """A URL that did not become an article, and why."""

    url: str
    stage: str  # download, parse, extract, validate or store
    reason: str
    http_status: int | None = None


STAGES = ("download", "parse", "extract", "validate", "store")


_SURROGATE = re.compile("[\ud800-\udfff]")


def storable(item: Article | Failure) -> bool:
    """Replace lone surrogates in ``item``'s text fields with U+FFFD; whether there were any.

    A JSON feed's ``"\\ud800"`` escape (a title, an author, a link) or a page in
    UTF-7 puts half a UTF-16 pair in a Python string; SQLite cannot encode it,
    and the batch holding it failed to write (every other row in it lost, the
    crawl's row never finished).
    """
    found = False
    for name, value in vars(item).items():
        if isinstance(value, str) and not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                setattr(item, name, _SURROGATE.sub("\ufffd", value))
                found = True
    return found
