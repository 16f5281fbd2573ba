"""From fetched bytes to a clean article, or a failure a person understands.

Pure: no Scrapy. :func:`process_page` is the one function every spider's
pages go through (and the one a worker pool runs); :func:`extract_text` is
the same path as the extraction bench calls it.
"""

from __future__ import annotations

import re
import traceback
import zlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from crawler import features
from crawler.dedup.exact import content_hash
from crawler.extract.cleaning import clean_text, derive_title, looks_like_headline, normalize_text
from crawler.extract.comments import without_comment_threads
from crawler.extract.decoding import NotText, decode
from crawler.extract.language import count_words, detect_language
from crawler.extract.maintext import Extracted, extract_html
from crawler.extract.siteprofile import site_profiles_since, template_signature
from crawler.items import Article, Failure, Page
from crawler.urls import canonical_url, host_of, is_web_url

DEFAULT_MIN_WORDS = 25
#: zlib level of the kept raw pages: on the dev pages level 3 compresses 4.1x
#: in 1.4 ms, level 6 4.6x in 2.9 ms (every page pays it, few are re-read).
RAW_LEVEL = 3

_HTML_SNIFF = re.compile(rb"^\s*(?:<!doctype\s+html|<html|<head|<body|<meta|<div|<p\b|<!--)", re.I)


@dataclass
class Options:
    min_words: int = DEFAULT_MIN_WORDS
    #: per-host selectors, see :mod:`crawler.extract.site_rules`.
    site_rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: per-host chrome lines learnt from the corpus (:mod:`crawler.extract.siteprofile`).
    site_lines: dict[str, frozenset[str]] = field(default_factory=dict)
    #: keep the fetched page, compressed, with the article (for ``scrapy reclean``).
    keep_raw: bool = False


def _kind(page: Page) -> str:
    """``html`` or ``text``: by content type, then by sniffing the bytes."""
    ctype = (page.content_type or "").split(";")[0].strip().lower()
    path = unquote(urlsplit(page.url).path).lower()
    if path.endswith((".txt", ".txt.gz")) or ctype == "text/plain":
        return "text"
    if "html" in ctype or "xml" in ctype or path.endswith((".html", ".htm", ".html.gz")):
        return "html"
    return "html" if _HTML_SNIFF.match(page.body[:512]) else "text"


def parse_text_file(text: str) -> Extracted:
    """A ``.txt`` article: a headline line when there is one, then the body."""
    text = normalize_text(text)
    first, _, rest = text.partition("\n")
    if looks_like_headline(first) and rest.strip():
        return Extracted(text=rest, title=first)
    return Extracted(text=text, title=None)


#: a title longer than this is cut at a word (a hostile page's 1 MB <title>)
TITLE_MAX_CHARS = 500


def bounded_title(title: str) -> str:
    """``title`` cut to :data:`TITLE_MAX_CHARS` at a word boundary, with an ellipsis."""
    if len(title) <= TITLE_MAX_CHARS:
        return title
    cut = title[: TITLE_MAX_CHARS - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut[200:] else cut).rstrip() + "…"


def _site_key(host: str | None) -> str:
    """``www.news.example.com`` -> ``news.example.com``: hosts of one site."""
    host = (host or "").lower()
    return host[4:] if host.startswith(("www.", "amp.")) else host


def article_url(fetched: str, declared: str | None) -> str:
    """The URL an article is stored under.

    A page's own ``<link rel="canonical">`` wins when it points to the same
    site (AMP pages and tracking-parameter variants name their original);
    a canonical link to another site is ignored, since a page may not claim
    another outlet's URL. A local file (a saved page) is stored under the web
    URL it declares; ``articles.fetched_url`` keeps the file's own URL.
    """
    fetched_c = canonical_url(fetched)
    if not declared:
        return fetched_c
    if not is_web_url(fetched):
        # A saved page (file://) is stored under the web address it declares.
        return canonical_url(declared) if is_web_url(declared.strip()) else fetched_c
    try:
        declared = urljoin(fetched, declared.strip())
    except ValueError:
        # A link Python's parser refuses ("Invalid IPv6 URL"): not an address.
        return fetched_c
    if not is_web_url(declared) or _site_key(host_of(declared)) != _site_key(host_of(fetched)):
        return fetched_c
    return canonical_url(declared)


def process_page(page: Page, options: Options | None = None) -> Article | Failure:
    """Decode, extract, clean and validate one page."""
    options = options or Options()
    kind = _kind(page)
    try:
        decoded = decode(
            page.body, declared_encoding=page.declared_encoding, is_html=kind == "html"
        )
    except NotText as exc:
        return Failure(page.url, "parse", str(exc), page.http_status)

    if kind == "html":
        try:
            ext = extract_html(
                decoded.text,
                page.url if is_web_url(page.url) else None,
                site_rules=options.site_rules or None,
            )
        except Exception as exc:  # noqa: BLE001 - a bad page must never stop a crawl
            return Failure(page.url, "extract", f"extraction failed: {exc!r}", page.http_status)
    else:
        ext = parse_text_file(decoded.text)

    hints = page.hints or {}

    def pick(name: str) -> str | None:
        """The page's own markup, then the listing's hint, then a heuristic guess."""
        value = getattr(ext, name)
        if value and name not in ext.guessed:
            return value
        return hints.get(name) or value

    title = pick("title")
    url = article_url(page.url, ext.canonical_url)
    site_lines = options.site_lines.get(host_of(url) or "", frozenset())
    # site profiles (r-profiles): the page's template, and no reader comments
    template = template_signature(decoded.text) if kind == "html" else None
    ext.text = without_comment_threads(ext.text, site_lines)
    cleaned = clean_text(ext.text, title=title, site_lines=site_lines)
    text = cleaned.text
    if not text:
        return Failure(page.url, "extract", "no article text found on the page", page.http_status)
    language = pick("language") or detect_language(text)
    words = count_words(text, language)
    if words < options.min_words:
        return Failure(
            page.url,
            "validate",
            f"too little article text: {words} words after cleaning (minimum {options.min_words})",
            page.http_status,
        )
    if not title:
        title = derive_title(text)
    title = bounded_title(title)

    site = pick("site") or host_of(page.url)
    return Article(
        url=url,
        fetched_url=page.url,
        title=title,
        text=text,
        content_hash=content_hash(text),
        author=pick("author"),
        published=pick("published"),
        site=site,
        language=language,
        description=ext.description,
        word_count=words,
        canonical_url=ext.canonical_url,
        raw=zlib.compress(page.body, RAW_LEVEL) if options.keep_raw else None,
        raw_content_type=page.content_type,
        raw_encoding=page.declared_encoding,
        etag=page.etag,
        last_modified=page.last_modified,
        published_guessed="published" in ext.guessed and not hints.get("published"),
        fetched_at=page.fetched_at,
        template=template,
    )


def clean_page(page: Page, options: Options | None = None) -> Article | Failure:
    """:func:`process_page`, plus the article's dedup and story features
    (:mod:`crawler.features`): what a cleaning worker runs, so the crawl's
    single writer has only lookups and writes left to do."""
    result = process_page(page, options)
    if isinstance(result, Article):
        features.attach(result)
    return result


# Cleaning worker processes (crawler.pipelines.ExtractPipeline) get their
# options once, when they start, rather than pickled again with every page
# (site profiles grow with the corpus). These live here, not in the
# pipelines module, so a worker never imports Scrapy.
#
# Site profiles learnt during the crawl reach the workers through the corpus:
# each page comes with the number of lessons so far, and a worker that has
# seen fewer reads the profiles updated since its last look
# (:func:`crawler.extract.siteprofile.site_profiles_since`, read-only).
_worker_options: Options | None = None
_worker_profiles: tuple[str | None, int, str] = (None, 0, "")  # database, lessons, updated_at


def init_worker(options: Options, profiles_db: str | None = None) -> None:
    global _worker_options, _worker_profiles
    _worker_options = options
    _worker_profiles = (profiles_db, 0, "")


def clean_in_worker(page: Page, lessons: int = 0) -> Article | Failure:
    global _worker_profiles
    path, seen, since = _worker_profiles
    if lessons > seen and path and _worker_options is not None:
        updated, since = site_profiles_since(path, since)
        _worker_options.site_lines.update(updated)
        _worker_profiles = (path, lessons, since)
    return cleaned_with(clean_page(page, _worker_options), lessons)


class CleaningError(Exception):
    """A page's cleaning raised in a worker: ``args`` are the error's repr and
    the worker's traceback (the exception itself may not survive pickling)."""


def clean_batch_in_worker(
    pages: list[Page], lessons: int = 0
) -> list[Article | Failure | CleaningError]:
    """:func:`clean_in_worker` for several pages, one message each way: a page
    that raises gets its :class:`CleaningError` and the others are cleaned."""
    out: list[Article | Failure | CleaningError] = []
    for page in pages:
        try:
            out.append(clean_in_worker(page, lessons))
        except Exception as exc:  # noqa: BLE001 - reported for this page only
            out.append(CleaningError(repr(exc), traceback.format_exc()))
    return out


#: the attribute an article carries (like its features, never stored) with the
#: number of site-profile lessons of the crawl its cleaning knew
LESSONS_ATTR = "_profile_lessons"


def cleaned_with(result: Article | Failure, lessons: int) -> Article | Failure:
    """Note on an article how many of the crawl's site-profile lessons its
    cleaning knew (the writer strips the lines of later ones)."""
    if isinstance(result, Article):
        setattr(result, LESSONS_ATTR, lessons)
    return result


def extract_text(html: bytes, url: str | None = None) -> str:
    """Clean text exactly as the crawler stores it (for the extraction bench)."""
    result = process_page(
        Page(url=url or "about:blank", body=html, content_type="text/html"), Options(min_words=0)
    )
    return result.text if isinstance(result, Article) else ""
