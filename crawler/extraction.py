"""Main text and metadata out of an HTML page.

Pure: no Scrapy. trafilatura finds the main text (comments off, metadata
on); the page's own markup (Open Graph, ``article:*`` meta tags, JSON-LD
``NewsArticle``, ``<link rel="canonical">``, ``<html lang>``) is read here too,
because it is more exact than trafilatura's guesses (full timestamps, the
publisher's own site name).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any

import lxml.html
import trafilatura
from lxml import etree

logger = logging.getLogger(__name__)


@dataclass
class Extracted:
    text: str = ""
    title: str | None = None
    author: str | None = None
    published: str | None = None
    site: str | None = None
    language: str | None = None
    description: str | None = None
    canonical_url: str | None = None
    page_type: str | None = None


_ARTICLE_TYPES = {
    "article", "newsarticle", "reportagenewsarticle", "analysisnewsarticle",
    "opinionnewsarticle", "blogposting", "liveblogposting", "reviewnewsarticle",
    "backgroundnewsarticle", "report", "scholarlyarticle", "techarticle", "posting",
}


def parse_html(html: str) -> Any | None:
    try:
        return lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return None


def _meta(tree: Any, *names: str) -> str | None:
    for name in names:
        for attr in ("property", "name", "itemprop"):
            found = tree.xpath(f'//meta[@{attr}="{name}"]/@content')
            for value in found:
                value = " ".join(value.split())
                if value:
                    return value
    return None


def _jsonld_objects(tree: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for script in tree.xpath('//script[@type="application/ld+json"]/text()'):
        try:
            data = json.loads(script)
        except ValueError:
            continue
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                if "@graph" in item:
                    stack.append(item["@graph"])
                out.append(item)
    return out


def _types(obj: dict[str, Any]) -> set[str]:
    t = obj.get("@type", [])
    if isinstance(t, str):
        t = [t]
    return {str(x).lower() for x in t}


def _name(value: Any) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, dict):
        return _name(value.get("name"))
    if isinstance(value, list):
        names = [n for n in (_name(v) for v in value) if n]
        return ", ".join(dict.fromkeys(names)) or None
    return None


def _jsonld_article(tree: Any) -> dict[str, Any]:
    for obj in _jsonld_objects(tree):
        if _types(obj) & _ARTICLE_TYPES:
            return obj
    return {}


_SUFFIX = re.compile(r"\s+[|–—-]\s+[^|–—-]{2,60}$")


def _strip_site_suffix(title: str, site: str | None) -> str:
    """'Headline | Site' -> 'Headline'."""
    if site and title.endswith(site):
        stripped = title[: -len(site)].rstrip(" |–—-:·")
        if stripped:
            return stripped
    m = _SUFFIX.search(title)
    if m and len(title[: m.start()].split()) >= 3:
        return title[: m.start()]
    return title


def page_metadata(tree: Any) -> Extracted:
    """Metadata from the page's markup alone."""
    ld = _jsonld_article(tree)
    site = _meta(tree, "og:site_name", "application-name") or _name(ld.get("publisher"))
    title = (
        _name(ld.get("headline"))
        or _meta(tree, "og:title", "twitter:title", "headline")
        or (" ".join(tree.findtext(".//title", "").split()) or None)
    )
    if title:
        title = _strip_site_suffix(title, site)
    author = _name(ld.get("author")) or _meta(
        tree, "author", "article:author", "byl", "dc.creator", "parsely-author", "sailthru.author"
    )
    if author and author.startswith(("http://", "https://")):
        author = None
    if author:
        author = re.sub(r"^by\s+", "", author, flags=re.IGNORECASE)
    published = _name(ld.get("datePublished")) or _meta(
        tree, "article:published_time", "datePublished", "pubdate", "publishdate",
        "date", "dc.date", "dcterms.created", "sailthru.date", "parsely-pub-date",
    )
    canonical = None
    for href in tree.xpath('//link[@rel="canonical"]/@href'):
        if href.strip():
            canonical = href.strip()
            break
    lang = None
    for value in tree.xpath("/html/@lang") + tree.xpath("/html/@xml:lang"):
        if value.strip():
            lang = value.strip()
            break
    lang = lang or _meta(tree, "og:locale", "language", "content-language")
    if lang:
        lang = lang.replace("_", "-").split("-")[0].lower() or None
    page_type = _meta(tree, "og:type")
    if not page_type and ld:
        page_type = "article"
    return Extracted(
        title=title,
        author=author,
        published=published,
        site=site,
        language=lang,
        description=_meta(tree, "og:description", "description", "twitter:description"),
        canonical_url=canonical,
        page_type=page_type,
    )


def extract_html(html: str, url: str | None = None) -> Extracted:
    """Main text (one paragraph per line) and metadata of an HTML page."""
    tree = parse_html(html)
    meta = page_metadata(tree) if tree is not None else Extracted()
    doc = trafilatura.bare_extraction(
        html,
        url=url,
        include_comments=False,
        with_metadata=True,
        include_tables=True,
    )
    if doc is not None:
        meta.text = doc.text or ""
        meta.title = meta.title or doc.title
        meta.author = meta.author or doc.author
        meta.published = meta.published or doc.date
        meta.site = meta.site or doc.sitename
        meta.language = meta.language or doc.language
        meta.description = meta.description or doc.description
    return meta
