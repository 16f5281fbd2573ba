"""``scrapy crawl comparable -a seed=FILE|URL|ID | -a seeds=FILE [-a search=TEMPLATE[,...]] [-a days=3]``.

Finds other outlets' coverage of a seed article's story: builds a query from
the seed's most telling names and terms (:mod:`crawler.listings.search`, idf from the
corpus), asks news-search endpoints for articles in a window of ``days``
around the seed's date, and fetches every hit through the normal pipeline.
Whether a hit joins the seed's story is decided by the story grouping, not
here. The seed itself is stored too (a file or a URL; a stored id already is).

``-a seeds=FILE`` reads many seeds, one a line (a file, a URL or a stored id;
blank lines and ``#`` comments skipped), into one corpus in one run; each
search host keeps its own delay, so many seeds stay polite.

The window: ``days`` either side of the seed's date when the page states it
(markup or feed); a seed without a date, with a date guessed from its text, or
with only a bare year (``2005-01-01``) is searched without a window (the
templates' date parts are left out), never around a guessed day. The first answer
of a seed is followed by one more search on the same template: a refined one when it
brought fewer than :data:`~crawler.listings.search.REFINE_BELOW` new articles (the
first name and the words the hits' titles share;
:func:`~crawler.listings.search.refined_query`), otherwise a complementary one (the
first name and the seed's next names and terms;
:func:`~crawler.listings.search.complementary_query`). One per
seed, so a seed costs ``len(templates) + 1`` searches at most. The seed's own
URL is never fetched again, and a hit already requested in this run is not
requested twice; every hit is counted in the ``comparable/hits/*`` stats
(``requested``, ``seed_itself``, ``already_requested``, ``known``,
``not_followable``).

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
from crawler.urls import canonical_url, host_of


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


def _seed_list(seed: str | None, seeds: str | None) -> list[str]:
    """The seeds of ``seed`` and of the ``seeds`` file, each checked (:func:`_seed_kind`)."""
    out = [seed] if seed else []
    if seeds:
        path = Path(seeds).expanduser()
        if not path.is_file():
            raise ArgumentError(f"seeds {seeds!r} is not a file (one seed a line)")
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                out.append(line)
        if len(out) == (1 if seed else 0):
            raise ArgumentError(f"seeds file {seeds!r} has no seed")
    if not out:
        raise ArgumentError(
            "give the seed as -a seed=FILE, -a seed=URL or -a seed=ARTICLE_ID,"
            " or many as -a seeds=FILE (one a line)"
        )
    for one in out:
        _seed_kind(one)
    return out


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
        seeds: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.arguments.update(
            {
                k: v
                for k, v in (("seed", seed), ("seeds", seeds), ("search", search), ("days", days))
                if v not in (None, "")
            }
        )
        self.seeds = _seed_list(seed, seeds)
        self.seed = self.seeds[0]
        self.kind = _seed_kind(self.seed)
        self.templates = _templates(search)
        self.days = _days(days)
        #: canonical URLs of the seeds and of every hit requested: never fetched twice
        self._requested: set[str] = set()
        #: seeds that already had their second (refined or complementary) search
        self._refined: set[int] = set()

    @classmethod
    def check_arguments(cls, **kwargs: Any) -> None:
        unknown = set(kwargs) - {"seed", "seeds", "search", "days"}
        if unknown:
            raise ArgumentError(f"unknown argument(s): {', '.join(sorted(unknown))}")
        _seed_list(kwargs.get("seed"), kwargs.get("seeds"))
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
        self.crawler.stats.set_value("comparable/seeds", len(self.seeds))
        for number, seed in enumerate(self.seeds):
            for item in self.start_seed(number, seed):
                yield item

    def start_seed(self, number: int, seed: str) -> Iterator[Any]:
        kind = _seed_kind(seed)
        if kind == "url":
            self._requested.add(canonical_url(seed))
            yield scrapy.Request(
                seed,
                callback=self.parse_seed,
                errback=self.request_failed,
                dont_filter=True,
                cb_kwargs={"number": number},
            )
            return
        if kind == "id":
            article = self._stored(int(seed))
            if article is None:
                self.logger.error("No article with id %s in the corpus", seed)
                yield Failure(
                    f"article:{seed}", "validate", f"no article with id {seed} in the corpus"
                )
                return
            self._requested.add(canonical_url(article.url))
            yield from self.searches(number, article)
            return
        path = Path(seed).expanduser().resolve()
        name = path.name.lower()
        page = Page(
            url=path.as_uri(),
            body=path.read_bytes(),
            content_type="text/plain" if name.endswith((".txt", ".txt.gz")) else "text/html",
        )
        result = process_page(page)
        yield page  # stored through the pipeline like any page
        if isinstance(result, Article):
            yield from self.searches(number, result)

    def _stored(self, article_id: int) -> Article | None:
        return self.corpus_view.article(article_id)

    def _stats(self) -> TermStats | None:
        return self.corpus_view.term_stats()

    @classmethod
    def needs_corpus(cls, kwargs: dict[str, Any]) -> str | None:
        try:
            kinds = {_seed_kind(s) for s in _seed_list(kwargs.get("seed"), kwargs.get("seeds"))}
        except ArgumentError:
            kinds = set()
        if "id" in kinds:
            return "seed=ID reads the article from the corpus"
        return None

    def searches(self, number: int, seed: Article) -> Iterator[scrapy.Request]:
        """The first searches of a seed (one a template)."""
        q = query.search_query(seed.title, seed.text, self._stats())
        span = query.window(seed.published, self.days, guessed=seed.published_guessed)
        stats = self.crawler.stats
        if span is None:
            stats.inc_value("comparable/searches_without_window")
            self.logger.info("Searching for %s without a date window", q.text())
        else:
            self.logger.info(
                "Searching for %s between %s and %s", q.text(), span[0].date(), span[1].date()
            )
        stats.set_value("comparable/query", q.text())
        meta = {
            "seed": number,
            "query": q,
            "span": span,
            "seed_url": canonical_url(seed.url),
            "second": query.complementary_query(seed.title, seed.text, q, self._stats()),
        }
        for template in self.templates:
            yield self.search_request(template, q, span, {**meta, "template": template})

    def search_request(
        self,
        template: str,
        q: query.Query,
        span: tuple[Any, Any] | None,
        meta: dict[str, Any],
    ) -> scrapy.Request:
        url = query.search_urls([template], q, *(span or (None, None)))[0]
        self.crawler.stats.inc_value("comparable/search_requests")
        return scrapy.Request(
            url,
            callback=self.parse_search,
            errback=self.request_failed,
            dont_filter=True,
            priority=10,
            meta={**meta, "download_slot": host_of(url) or url},
        )

    def parse_seed(self, response: Response, number: int = 0) -> Iterator[Any]:
        page = self.page_from(response)
        yield page
        result = process_page(page)
        if isinstance(result, Article):
            self._requested.add(canonical_url(result.url))
            yield from self.searches(number, result)

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
        seed_url = response.meta.get("seed_url")
        new = 0
        for entry in entries:
            url = canonical_url(entry.url)
            if url == seed_url:
                stats.inc_value("comparable/hits/seed_itself")
            elif url in self._requested:
                stats.inc_value("comparable/hits/already_requested")
            elif not is_followable(entry.url):
                stats.inc_value("comparable/hits/not_followable")
            elif self.skip_known(entry.url):
                stats.inc_value("comparable/hits/known")
            else:
                stats.inc_value("comparable/hits/requested")
                self._requested.add(url)
                new += 1
                yield self.article_request(entry)
        number = response.meta.get("seed")
        if number is None or number in self._refined:
            return
        self._refined.add(number)
        first: query.Query = response.meta["query"]
        if new < query.REFINE_BELOW:
            second = query.refined_query(first, [e.title for e in entries if e.title])
            counter, why = (
                "comparable/refined_searches",
                "Few new hits (%d): searching again for %s",
            )
        else:
            second = response.meta.get("second") or first
            counter, why = "comparable/second_searches", "%d new hits: searching also for %s"
        if second.text() and second.text() != first.text():
            stats.inc_value(counter)
            self.logger.info(why, new, second.text())
            yield self.search_request(
                response.meta["template"],
                second,
                response.meta.get("span"),
                {**response.meta, "query": second, "second": None},
            )
