"""Is a page an article, or a section, tag or index page? And where does it link?

Pure: no Scrapy. The ``site`` spider stores only articles and follows links on
every page; :func:`analyse` parses a page once and returns both answers.
An article is told from the rest by a score over a few signals:

* the page's own markup: ``og:type`` and JSON-LD ``@type`` (``NewsArticle``,
  ``Article``, ``BlogPosting``, ... versus ``CollectionPage``, ``WebSite``);
* the URL's shape: a date or a long slug or a numeric id versus ``/tag/``,
  ``/category/``, ``/page/2``, a bare section (``/world/``) or the home page;
* text density: the largest block of prose paragraphs under one element
  (an article body) versus many short teaser cards.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import lxml.html
from lxml import etree

from crawler.extract.language import count_words
from crawler.extract.metadata import ARTICLE_TYPES, jsonld_objects
from crawler.netsafety import is_followable

LISTING_TYPES = frozenset(
    {
        "collectionpage",
        "itemlist",
        "website",
        "searchresultspage",
        "profilepage",
        "aboutpage",
        "contactpage",
        "faqpage",
    }
)
LISTING_SEGMENTS = frozenset(
    {
        "tag",
        "tags",
        "topic",
        "topics",
        "category",
        "categories",
        "section",
        "sections",
        "author",
        "authors",
        "archive",
        "archives",
        "search",
        "page",
        "index",
        "feed",
        "feeds",
        "about",
        "contact",
        "login",
        "subscribe",
        "newsletters",
        "people",
    }
)
#: links to these are never pages (images, documents, media, archives).
SKIP_EXTENSIONS = (
    ".jpg",
    ".jpeg",
    ".png",
    ".gif",
    ".webp",
    ".svg",
    ".ico",
    ".bmp",
    ".tif",
    ".tiff",
    ".pdf",
    ".zip",
    ".gz",
    ".tgz",
    ".rar",
    ".7z",
    ".mp3",
    ".mp4",
    ".m4a",
    ".mov",
    ".avi",
    ".webm",
    ".ogg",
    ".wav",
    ".css",
    ".js",
    ".json",
    ".xml",
    ".rss",
    ".atom",
    ".doc",
    ".docx",
    ".xls",
    ".xlsx",
    ".ppt",
    ".pptx",
    ".exe",
    ".dmg",
    ".woff",
    ".woff2",
    ".ttf",
)

_DATE_IN_PATH = re.compile(r"/(?:19|20)\d{2}/(?:0?[1-9]|1[0-2])(?:/|$)|(?:19|20)\d{2}-\d{2}-\d{2}")
_NUMERIC_ID = re.compile(r"\d{5,}")
_PAGE_QUERY = re.compile(r"(?:^|&)(?:page|p|offset)=\d+", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?…。！？][\"'”’»)」』）]*$")

#: score at or above which a page is an article.
ARTICLE_THRESHOLD = 2
#: words of prose under one element that make an article body.
BODY_WORDS = 150
#: pages with less prose than this are not articles, whatever else they say.
MIN_PROSE_WORDS = 40


@dataclass
class PageAnalysis:
    is_article: bool
    score: int
    #: the signals that decided, e.g. ``["og:type=article", "url:date"]``.
    signals: list[str] = field(default_factory=list)
    #: http(s) links on the page, absolute, without fragments, in page order.
    links: list[str] = field(default_factory=list)
    #: links with another scheme (``file:``, ``ftp:``, ``data:``, ...), never followed.
    unsafe_links: int = 0


def parse(html: str | bytes) -> Any | None:
    try:
        if isinstance(html, str):
            try:
                return lxml.html.document_fromstring(html)
            except ValueError:  # a str with an XML encoding declaration
                html = html.encode("utf-8")
        return lxml.html.document_fromstring(html, parser=lxml.html.HTMLParser(encoding="utf-8"))
    except (etree.ParserError, ValueError):
        return None


def analyse(html: str | bytes, url: str) -> PageAnalysis:
    """Classify the page at ``url`` and list its links."""
    tree = parse(html)
    if tree is None:
        return PageAnalysis(False, -10, ["unparseable"], [])
    score, signals = 0, []
    for part in (_markup_score(tree), url_score(url), _density_score(tree)):
        score += part[0]
        signals += part[1]
    prose = _largest_prose_block(tree)
    is_article = score >= ARTICLE_THRESHOLD and prose >= MIN_PROSE_WORDS
    found, unsafe = _links(tree, url)
    return PageAnalysis(is_article, score, signals, found, unsafe)


def _meta(tree: Any, prop: str) -> str | None:
    for value in tree.xpath(f'//meta[@property="{prop}" or @name="{prop}"]/@content'):
        if value.strip():
            return value.strip().lower()
    return None


def _ld_types(tree: Any) -> set[str]:
    found: set[str] = set()
    for item in jsonld_objects(tree):
        types = item.get("@type", [])
        for t in [types] if isinstance(types, str) else types:
            if isinstance(t, str):
                found.add(t.lower())
    return found


def _markup_score(tree: Any) -> tuple[int, list[str]]:
    score, signals = 0, []
    og = _meta(tree, "og:type")
    if og:
        if og == "article" or og.startswith("article") or og.endswith("article"):
            score += 3
        else:
            score -= 1
        signals.append(f"og:type={og}")
    types = _ld_types(tree)
    if types & ARTICLE_TYPES:
        score += 3
        signals.append("json-ld:" + ",".join(sorted(types & ARTICLE_TYPES)))
    elif types & LISTING_TYPES:
        score -= 2
        signals.append("json-ld:" + ",".join(sorted(types & LISTING_TYPES)))
    return score, signals


def url_score(url: str) -> tuple[int, list[str]]:
    """What the URL's shape says: positive for articles, negative for listings."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.lower().split("/") if s]
    if not segments:
        return -2, ["url:home"]
    if any(s in LISTING_SEGMENTS for s in segments) or _PAGE_QUERY.search(parts.query):
        return -2, ["url:listing"]
    last = re.sub(r"\.(?:s?html?|php|aspx?)$", "", segments[-1])
    score, signals = 0, []
    if _DATE_IN_PATH.search(parts.path):
        score += 1
        signals.append("url:date")
    if len(re.split(r"[-_]+", last)) >= 4:
        score += 1
        signals.append("url:slug")
    elif _NUMERIC_ID.search(last):
        score += 1
        signals.append("url:id")
    if len(segments) == 1 and not signals:
        score -= 1
        signals.append("url:section")
    return min(score, 2), signals


def _words(text: str | None) -> int:
    return count_words(text or "")


def _prose_words(p: Any) -> int:
    text = " ".join((p.text_content() or "").split())
    if _words(text) < 8 or not _SENTENCE_END.search(text):
        return 0
    link_chars = sum(len(" ".join((a.text_content() or "").split())) for a in p.iter("a"))
    return 0 if link_chars > 0.5 * len(text) else _words(text)


def _largest_prose_block(tree: Any) -> int:
    """Words of prose paragraphs under the one element holding most of them."""
    blocks: dict[Any, int] = {}
    for p in tree.iter("p"):
        words = _prose_words(p)
        parent = p.getparent()
        if words and parent is not None:
            blocks[parent] = blocks.get(parent, 0) + words
    return max(blocks.values(), default=0)


def _density_score(tree: Any) -> tuple[int, list[str]]:
    prose = _largest_prose_block(tree)
    cards = len(tree.xpath("//article | //li[.//a and .//p]"))
    score = 0
    if prose >= BODY_WORDS:
        score += 1
    elif prose < MIN_PROSE_WORDS:
        score -= 1
    if cards >= 4:
        score -= 2
    signals = [f"prose:{prose} words"] + ([f"cards:{cards}"] if cards >= 4 else [])
    return score, signals


def links(html: str | bytes, url: str) -> list[str]:
    """http(s) links of a page: absolute, no fragment, no media files."""
    tree = parse(html)
    return _links(tree, url)[0] if tree is not None else []


_IGNORED_SCHEMES = ("javascript:", "mailto:", "tel:", "#")


def _links(tree: Any, url: str) -> tuple[list[str], int]:
    base = url
    for href in tree.xpath("//base/@href"):
        if href.strip():
            base = urljoin(url, href.strip())
            break
    out: dict[str, None] = {}
    unsafe = 0
    for href in tree.xpath("//a/@href | //area/@href"):
        href = href.strip()
        if not href or href.lower().startswith(_IGNORED_SCHEMES):
            continue
        try:
            absolute = urljoin(base, href)
            parts = urlsplit(absolute)
        except ValueError:
            continue
        if not is_followable(absolute):
            unsafe += 1
            continue
        if parts.path.lower().endswith(SKIP_EXTENSIONS):
            continue
        out[urlunsplit(parts._replace(fragment=""))] = None
    return list(out), unsafe


def _site_host(url: str) -> tuple[str, int | None]:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    host = host[4:] if host.startswith("www.") else host
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    except ValueError:
        port = None
    return host, port


def same_site(url: str, other: str) -> bool:
    """Same host (``www.`` ignored) and the same port (http and https count alike)."""
    a, b = _site_host(url), _site_host(other)
    if a[0] != b[0]:
        return False
    return a[1] == b[1] or {a[1], b[1]} <= {80, 443}
