"""``scrapy crawl comparable -a seed=FILE|URL|ID [-a search=TEMPLATE[,...]] [-a days=3]``.

Finds other outlets' coverage of a seed article's story: builds a query from
the seed's most telling names and terms (:mod:`crawler.listings.search`, idf from the
corpus), asks news-search endpoints for articles in a window of ``days``
around the seed's date, and fetches every hit through the normal pipeline.
Whether a hit joins the seed's story is decided by the story grouping, not
here. The seed itself is stored too (a file or a URL; a stored id already is).

Search endpoints are URL templates holding ``{query}`` (and optionally
``{start}``/``{end}`` as ``YYYYMMDDHHMMSS``, ``{start_date}``/``{end_date}`` as
``YYYY-MM-DD``); the answers may be GDELT DOC 2.0 ``ArtList`` JSON or any
RSS/Atom feed. Defaults: the GDELT DOC API and Google News RSS search. Each
search host is its own download slot with the delay it asks for
(:data:`crawler.listings.search.SEARCH_DELAYS`: GDELT one request per 5 s).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import scrapy
from scrapy.http import Response

from crawler.extract.processing import process_page
from crawler.items import Article, Failure, Page
from crawler.listings import search as query
from crawler.netsafety import is_followable
from crawler.spiders import ArgumentError, WebSpider, split_urls
from crawler.spiders.files import supported
from crawler.stories.grouping import TermStats
from crawler.urls import host_of


def _days(value: Any) -> int:
    try:
        days = int(value)
    except (TypeError, ValueError):
        raise ArgumentError(f"days must be a whole number of days, not {value!r}") from None
    if not 0 <= days <= 365:
        raise ArgumentError("days must be between 0 and 365")
    return days


def _templates(value: str | None) -> list[str]:
    templates = split_urls(value) if value else list(query.DEFAULT_TEMPLATES)
    for template in templates:
        try:
            query.check_template(template)
        except query.QueryError as exc:
            raise ArgumentError(str(exc)) from None
    return templates


def _seed_kind(seed: str | None) -> str:
    if not seed:
        raise ArgumentError("give the seed as -a seed=FILE, -a seed=URL or -a seed=ARTICLE_ID")
    if seed.isdigit():
        return "id"
    if seed.startswith(("http://", "https://")):
        return "url"
    path = Path(seed).expanduser()
    if not path.is_file():
        raise ArgumentError(f"seed {seed!r} is neither a file, an http(s) URL nor an article id")
    if not supported(path):
        raise ArgumentError(f"seed {seed!r} is not a .txt or .html file")
    return "file"


class ComparableSpider(WebSpider):
    name = "comparable"

    def __init__(
        self,
        seed: str | None = None,
        search: str | None = None,
        days: str | int = 3,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.arguments.update(
            {
                k: v
                for k, v in (("seed", seed), ("search", search), ("days", days))
                if v not in (None, "")
            }
        )
        self.seed = seed or ""
        self.kind = _seed_kind(seed)
        self.templates = _templates(search)
        self.days = _days(days)

    @classmethod
    def check_arguments(cls, **kwargs: Any) -> None:
        unknown = set(kwargs) - {"seed", "search", "days"}
        if unknown:
            raise ArgumentError(f"unknown argument(s): {', '.join(sorted(unknown))}")
        _seed_kind(kwargs.get("seed"))
        _templates(kwargs.get("search"))
        _days(kwargs.get("days", 3))

    @classmethod
    def update_settings(cls, settings: Any) -> None:
        super().update_settings(settings)
        slots = dict(settings.getdict("DOWNLOAD_SLOTS"))
        for host, delay in query.SEARCH_DELAYS.items():
            slots.setdefault(host, {"delay": delay, "concurrency": 1})
        settings.set("DOWNLOAD_SLOTS", slots, priority="spider")

    async def start(self) -> AsyncIterator[Any]:
        if self.kind == "url":
            yield scrapy.Request(
                self.seed, callback=self.parse_seed, errback=self.request_failed, dont_filter=True
            )
            return
        if self.kind == "id":
            article = self._stored(int(self.seed))
            if article is None:
                self.logger.error("No article with id %s in the corpus", self.seed)
                yield Failure(
                    f"article:{self.seed}",
                    "validate",
                    f"no article with id {self.seed} in the corpus",
                )
                return
            for request in self.searches(article.title, article.text, article.published):
                yield request
            return
        path = Path(self.seed).expanduser().resolve()
        name = path.name.lower()
        page = Page(
            url=path.as_uri(),
            body=path.read_bytes(),
            content_type="text/plain" if name.endswith((".txt", ".txt.gz")) else "text/html",
        )
        result = process_page(page)
        yield page  # stored through the pipeline like any page
        if isinstance(result, Article):
            for request in self.searches(result.title, result.text, result.published):
                yield request

    def _stored(self, article_id: int) -> Article | None:
        return self.corpus_view.article(article_id)

    def _stats(self) -> TermStats | None:
        return self.corpus_view.term_stats()

    @classmethod
    def needs_corpus(cls, kwargs: dict[str, Any]) -> str | None:
        if _seed_kind(kwargs.get("seed")) == "id":
            return "seed=ID reads the article from the corpus"
        return None

    def searches(
        self, title: str | None, text: str, published: str | None
    ) -> Iterator[scrapy.Request]:
        q = query.search_query(title, text, self._stats())
        start, end = query.window(published, self.days)
        self.logger.info("Searching for %s between %s and %s", q.text(), start.date(), end.date())
        self.crawler.stats.set_value("comparable/query", q.text())
        for url in query.search_urls(self.templates, q, start, end):
            yield scrapy.Request(
                url,
                callback=self.parse_search,
                errback=self.request_failed,
                dont_filter=True,
                priority=10,
                meta={"download_slot": host_of(url) or url},
            )

    def parse_seed(self, response: Response) -> Iterator[Any]:
        page = self.page_from(response)
        yield page
        result = process_page(page)
        if isinstance(result, Article):
            yield from self.searches(result.title, result.text, result.published)

    def parse_search(self, response: Response) -> Iterator[Any]:
        stats = self.crawler.stats
        try:
            kind, entries = query.parse_results(response.body, response.url)
        except query.QueryError as exc:
            stats.inc_value("comparable/unreadable_searches")
            self.logger.warning("Unreadable search answer %s: %s", response.url, exc)
            yield Failure(response.url, "parse", str(exc), response.status)
            return
        stats.inc_value(f"comparable/searches/{kind}")
        stats.inc_value("comparable/hits", len(entries))
        self.logger.info("Search %s (%s): %d hits", response.url, kind, len(entries))
        for entry in entries:
            if not is_followable(entry.url) or self.skip_known(entry.url):
                continue
            yield self.article_request(entry)
