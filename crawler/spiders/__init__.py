"""Spiders: each reads one kind of source and yields Page or Failure items.

:class:`CorpusSpider` is the base of every spider; :class:`WebSpider` adds
what the web spiders (``urls``, ``feeds``, ``sitemaps``, ``site``) share:
argument parsing, article requests carrying listing metadata as hints,
newest-first priorities, and skipping articles the corpus already holds.

Spiders ask the corpus through :attr:`CorpusSpider.corpus_view`, a read-only
:class:`crawler.core.view.CorpusView` that the corpus pipeline hands over with the
``corpus_opened`` signal once the corpus is open. A scale-out worker
(``CORPUS_REDIS_URL``) has no corpus: arguments that need one (``refresh=1``) are
refused before the crawl starts (:meth:`CorpusSpider.needs_corpus`), and
``CORPUS_SKIP_KNOWN`` is reported as off, once, with the stat
``corpus/skip_known/unavailable``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from twisted.python.failure import Failure as TwistedFailure

from crawler.config import Config
from crawler.core.signals import corpus_opened
from crawler.core.view import ON_REDIS_WORKER, CorpusView, NoCorpus
from crawler.items import Failure, Page
from crawler.listings.entries import BadLink, Entry, parse_since, priority
from crawler.netsafety import is_followable, url_problem
from crawler.resolver import refusal_for
from crawler.spiders import guard
from crawler.storage.incremental import last_success
from crawler.urls import canonical_url

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

ROBOTS_FORBIDDEN = "Forbidden by robots.txt"
_BOMB = re.compile(
    r"\((?P<packed>\d+) B compressed.*?exceeded DOWNLOAD_MAXSIZE \((?P<limit>\d+) B\)"
)
_EXPECTED = re.compile(
    r"Expected to receive (?P<size>\d+) bytes which is larger than download max size "
    r"\((?P<limit>\d+)\)"
)
_SPLIT_URLS = re.compile(r"[,\s]+(?=[A-Za-z][A-Za-z0-9+.-]*:)")


class ArgumentError(ValueError):
    """A spider argument is wrong; ``str(exc)`` is the one-line reason."""


class CorpusSpider(scrapy.Spider):
    """Base class: records arguments, turns request errors into failures, and
    holds the read-only view of the corpus (:attr:`corpus_view`)."""

    #: the project settings, read once (set by from_crawler)
    crawl_config: Config = Config()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.arguments = {k: v for k, v in kwargs.items() if not k.startswith("_")}
        #: what the spider may ask of the corpus; an empty view until the
        #: corpus pipeline sends ``corpus_opened`` (none is enabled, or a
        #: scale-out worker, where there is no corpus to ask)
        self.corpus_view: CorpusView = NoCorpus("no corpus pipeline is enabled")
        super().__init__(*args, **kwargs)

    @classmethod
    def needs_corpus(cls, kwargs: dict[str, Any]) -> str | None:
        """What in these arguments needs the corpus, if anything (a scale-out
        worker refuses it). None here; subclasses say."""
        return None

    @classmethod
    def update_settings(cls, settings: Any) -> None:
        """Scrapy's, plus :class:`crawler.spiders.guard.CallbackGuard`: a callback
        that raises leaves a ``failures`` row instead of losing its response."""
        super().update_settings(settings)
        middlewares = settings["SPIDER_MIDDLEWARES"]
        if guard.PATH not in middlewares:
            middlewares.set(guard.PATH, guard.ORDER, "spider")

    @classmethod
    def corpus_refusal(cls, config: Config, kwargs: dict[str, Any]) -> str | None:
        """The one-line reason these arguments cannot run with ``config``."""
        if not config.distributed:
            return None
        need = cls.needs_corpus(kwargs)
        if need is None:
            return None
        return f"{need}, and {ON_REDIS_WORKER}; run this crawl without CORPUS_REDIS_URL, beside the corpus"

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Any:
        config = Config.from_settings(crawler.settings)
        refusal = cls.corpus_refusal(config, kwargs)
        if refusal is not None:
            raise ArgumentError(refusal)
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.crawl_config = config
        if config.distributed:
            spider.corpus_view = NoCorpus(ON_REDIS_WORKER)
        crawler.signals.connect(spider.corpus_opened, signal=corpus_opened)
        return spider

    def corpus_opened(self, view: CorpusView) -> None:
        """The ``corpus_opened`` signal: the corpus is open, here is its view."""
        self.corpus_view = view

    def page_from(self, response: Response, **hints: Any) -> Page:
        ctype = response.headers.get("Content-Type")
        declared = None
        ctype_s = ctype.decode("latin-1") if ctype else None
        if ctype_s and "charset=" in ctype_s.lower():
            declared = ctype_s.lower().split("charset=", 1)[1].split(";")[0].strip(" \"'")

        def header(name: str) -> str | None:
            value = response.headers.get(name)
            return value.decode("latin-1") if value else None

        return Page(
            url=response.url,
            body=response.body,
            content_type=ctype_s,
            declared_encoding=declared,
            http_status=response.status if response.url.startswith("http") else None,
            hints={k: v for k, v in hints.items() if v},
            etag=header("ETag"),
            last_modified=header("Last-Modified"),
            requested_url=requested_url(response.request) if response.request else None,
        )

    def request_failed(self, failure: TwistedFailure) -> Failure:
        """errback: one ``failures`` row per request that produced nothing.

        The row names the URL that was asked for (the first of a redirect
        chain), so that a user finds it under the URL they gave.
        """
        request = getattr(failure, "request", None)
        url = requested_url(request) if request is not None else "?"
        response = getattr(failure.value, "response", None)
        status = response.status if response is not None else None
        reason = describe_error(failure, self.settings.getint("DOWNLOAD_MAXSIZE"))
        if request is not None and type(failure.value).__name__ in (
            "DNSLookupError",
            "CannotResolveHostError",
        ):
            # refused at connection time (crawler.resolver): say why
            reason = proxy_refusal(request) or refusal_for(urlsplit(request.url).hostname) or reason
        if is_robots_refusal(failure):
            self.logger.info("Not fetching %s: %s", url, reason)
        else:
            self.logger.warning("Download failed for %s: %s", url, reason)
        return Failure(url=url, stage="download", reason=reason, http_status=status)


def proxy_refusal(request: scrapy.Request) -> str | None:
    """The connection-time refusal of the request's proxy, naming it and the setting."""
    proxy = request.meta.get("proxy")
    if not proxy:
        return None
    try:
        parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    refusal = refusal_for(host)
    if host is None or refusal is None:
        return None
    kind = refusal.split(" address;", 1)[0].rsplit(" ", 1)[-1]
    where = f"{host}:{port}" if port else host
    return (
        f"refused: the proxy {parts.scheme}://{where} (from http_proxy/https_proxy or the "
        f"request's proxy) is on a {kind} address; allow that proxy alone with "
        f"-s ALLOW_PRIVATE_HOSTS={where}"
    )


def requested_url(request: scrapy.Request) -> str:
    """The URL first asked for: before any redirect."""
    chain = request.meta.get("redirect_urls") or [request.url]
    return str(chain[0])


def is_robots_refusal(failure: TwistedFailure) -> bool:
    return isinstance(failure.value, IgnoreRequest) and str(failure.value) == ROBOTS_FORBIDDEN


def describe_error(failure: TwistedFailure, maxsize: int = 0) -> str:
    """A sentence a person understands for a download error."""
    exc = failure.value
    response = getattr(exc, "response", None)
    if response is not None:
        try:
            phrase = f" ({HTTPStatus(response.status).phrase})"
        except ValueError:
            phrase = ""
        return f"the server answered HTTP {response.status}{phrase}"
    name = type(exc).__name__
    text = str(exc) or name
    if isinstance(exc, IgnoreRequest):
        return _ignored(text)
    if isinstance(exc, FileNotFoundError) or "No such file" in text:
        return f"file not found: {text}"
    if isinstance(exc, PermissionError) or "Permission denied" in text:
        return f"file not readable (permission denied): {text}"
    if isinstance(exc, IsADirectoryError):
        return f"is a folder, not a file: {text}"
    if "larger than download max size" in text:
        m = _EXPECTED.search(text)
        if m:
            return (
                f"page larger than DOWNLOAD_MAXSIZE: the server announced {m['size']} bytes, "
                f"more than {m['limit']}; not downloaded"
            )
        return f"page larger than DOWNLOAD_MAXSIZE, download cancelled: {_short(text)}"
    if "TimeoutError" in name or "timed out" in text.lower() or "took longer than" in text:
        return f"timed out: {text}"
    if "DNSLookupError" in name or "CannotResolveHost" in name:
        return f"host name not found (DNS lookup failed): {text}"
    if "ConnectionRefused" in name:
        return f"connection refused by the server: {text}"
    if "DataLoss" in name or "DataLoss" in text:
        return (
            "the connection broke before the page was complete (fewer bytes than its "
            "Content-Length, or a broken chunked body); a partial page is not stored"
        )
    if name == "DownloadCancelledError" or "CancelledError" in name:
        limit = f" ({maxsize} bytes)" if maxsize else ""
        return (
            f"page larger than DOWNLOAD_MAXSIZE{limit}: the download was cancelled once "
            "that much had arrived"
        )
    inner = _inner_errors(exc)
    parse_error = next((v for v in _inner_values(exc) if type(v).__name__ == "ParseError"), None)
    if parse_error is not None:
        what = ", ".join(a if isinstance(a, str) else repr(a)[:100] for a in parse_error.args)
        return f"the server's answer is not valid HTTP ({what})"
    if "ConnectionDone" in inner or "ConnectionLost" in inner or "ResponseNeverReceived" in inner:
        return (
            "the server closed the connection before its answer was complete (it reset "
            "the connection, sent no answer, or sent an answer header too long to read)"
        )
    if "ResponseFailed" in name or "DownloadFailed" in name:
        return f"the download failed: {_short(inner)}"
    return f"{name}: {_short(text)}"


def _inner_values(exc: BaseException) -> list[BaseException]:
    """The error and those it wraps (``__cause__``, Twisted's ``ResponseFailed.reasons``)."""
    out: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(out) < 10:
        out.append(current)
        for reason in getattr(current, "reasons", None) or ():
            value = getattr(reason, "value", reason)
            if isinstance(value, BaseException):
                out.append(value)
        current = current.__cause__ or current.__context__
    return out


def _inner_errors(exc: BaseException) -> str:
    return "; ".join(f"{type(v).__name__}: {v}" for v in _inner_values(exc))


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _ignored(text: str) -> str:
    if text == ROBOTS_FORBIDDEN:
        return "disallowed by robots.txt"
    if text == "max redirections reached":
        return "too many redirects (more than REDIRECT_MAX_TIMES): a redirect loop?"
    if "exceeded DOWNLOAD_MAXSIZE" in text:
        m = _BOMB.search(text)
        if m:
            return (
                f"page larger than DOWNLOAD_MAXSIZE once decompressed ({m['limit']} bytes): "
                f"{m['packed']} bytes on the wire expanded past it (a compression bomb?); "
                "not stored"
            )
        return f"page larger than DOWNLOAD_MAXSIZE once decompressed, download cancelled: {text}"
    return text


def split_urls(value: str | None) -> list[str]:
    """``a,b`` -> ``[a, b]``; a comma inside a URL (``?ids=1,2``) stays in it."""
    if not value:
        return []
    return [u.strip().rstrip(",") for u in _SPLIT_URLS.split(value.strip()) if u.strip(" ,")]


def web_urls(value: str | None, name: str) -> list[str]:
    """A list argument of http(s) URLs, or :class:`ArgumentError`."""
    urls = split_urls(value)
    if not urls:
        raise ArgumentError(f"give {name} as -a {name}=URL[,URL...]")
    for url in urls:
        if not is_followable(url):
            raise ArgumentError(f"{name}: {url!r} is not an http(s) URL")
    return urls


def since_argument(value: str | None) -> Any:
    try:
        return parse_since(value)
    except ValueError as exc:
        raise ArgumentError(str(exc)) from None


#: arguments every web spider takes besides its own.
WEB_ARGUMENTS = frozenset({"refresh"})


def refresh_argument(value: Any) -> bool:
    text = str(value if value is not None else "").strip().lower()
    if text in ("", "0", "false", "no", "off"):
        return False
    if text in ("1", "true", "yes", "on"):
        return True
    raise ArgumentError(f"refresh: expected 1 or 0, got {value!r}")


def unknown_arguments(kwargs: dict[str, Any], own: set[str]) -> None:
    unknown = set(kwargs) - own - WEB_ARGUMENTS
    if unknown:
        raise ArgumentError(f"unknown argument(s): {', '.join(sorted(unknown))}")
    refresh_argument(kwargs.get("refresh"))


class WebSpider(CorpusSpider):
    """Base of the spiders that fetch from the web.

    ``-a refresh=1`` fetches known articles again, with conditional requests
    (``If-None-Match`` / ``If-Modified-Since`` from the stored ``ETag`` and
    ``Last-Modified``): a 304 changes nothing, a changed text updates the
    article and keeps the previous text in ``versions``.
    """

    #: requests for anything but http(s) are refused (WebSafetyMiddleware).
    web_only = True

    def __init__(self, *args: Any, refresh: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.refresh = refresh_argument(refresh)
        if self.refresh:
            self.arguments["refresh"] = "1"

    @classmethod
    def needs_corpus(cls, kwargs: dict[str, Any]) -> str | None:
        if refresh_argument(kwargs.get("refresh")):
            return "refresh=1 needs the corpus (the stored ETag and Last-Modified of each article)"
        return None

    def conditional(self, url: str) -> dict[str, Any]:
        """Request keyword arguments for a conditional re-fetch of a known URL."""
        if not self.refresh or url_problem(url) is not None:
            return {}
        etag, modified = self.corpus_view.validators(canonical_url(url))
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if modified:
            headers["If-Modified-Since"] = modified
        if not headers:
            return {}
        self.crawler.stats.inc_value("corpus/refresh/conditional_requests")
        return {"headers": headers, "meta": {"handle_httpstatus_list": [304]}}

    def not_modified(self, response: Response) -> bool:
        if response.status != 304:
            return False
        self.crawler.stats.inc_value("corpus/refresh/not_modified")
        self.logger.debug("Not modified since the last crawl: %s", response.url)
        return True

    def skip_known(self, url: str) -> bool:
        """Is ``url`` already an article or duplicate in the corpus? (Counted.)"""
        if self.refresh or not self.crawl_config.corpus_skip_known:
            return False
        if url_problem(url) is not None:  # no lookup: its request becomes the failure
            return False
        view = self.corpus_view
        if not view.available:
            self._cannot_skip_known(view.reason)
            return False
        if not view.is_known_url(canonical_url(url)):
            return False
        self.crawler.stats.inc_value("corpus/skipped/known_unfetched")
        self.logger.debug("Already in the corpus, not downloading: %s", url)
        return True

    def _cannot_skip_known(self, reason: str) -> None:
        """CORPUS_SKIP_KNOWN is on but there is no corpus: one warning, and a count
        of the listed articles fetched without the check."""
        stats = self.crawler.stats
        if not stats.get_value("corpus/skip_known/unavailable"):
            drain = " (the drain records those as known)" if self.crawl_config.distributed else ""
            self.logger.warning(
                "CORPUS_SKIP_KNOWN is on, but %s; listed articles are fetched even if the "
                "corpus has them%s. -s CORPUS_SKIP_KNOWN=False says so and silences this.",
                reason,
                drain,
            )
        stats.inc_value("corpus/skip_known/unavailable")

    #: request meta that a listing passes on to what it leads to (the
    #: ``sources`` spider's per-source ``since``, depth and download slot).
    INHERITED_META = ("corpus_source", "corpus_since", "site_max_depth", "download_slot")

    def inherited(self, response: Response) -> dict[str, Any]:
        return {k: response.meta[k] for k in self.INHERITED_META if k in response.meta}

    def since_for(self, response: Response) -> Any:
        """The ``since`` date for entries of this listing: the later of the
        ``since`` argument and the day this same command last finished
        normally (only what is new), unless ``refresh=1``."""
        if "corpus_since" in response.meta:
            return response.meta["corpus_since"]
        dates = [d for d in (getattr(self, "since", None), self._last_success()) if d]
        return max(dates) if dates else None

    def _last_success(self) -> Any:
        if self.refresh:
            return None
        if not hasattr(self, "_last_success_day"):
            last = last_success(self.crawl_config.corpus_db, self.name, self.arguments)
            self._last_success_day = last.date() if last else None
            if last:
                self.crawler.stats.set_value("corpus/since_last_crawl", last.isoformat())
        return self._last_success_day

    def article_request(
        self, entry: Entry, meta: dict[str, Any] | None = None
    ) -> scrapy.Request | Failure:
        """A request for a listed article, its listing's metadata as hints (or a
        failure for a URL no request can be made of)."""
        cond = self.conditional(entry.url)
        return self.request_or_failure(
            entry.url,
            callback=self.parse_article,
            errback=self.request_failed,
            cb_kwargs={"hints": entry.hints()},
            priority=priority(entry),
            meta={**(meta or {}), **cond.get("meta", {})},
            headers=cond.get("headers"),
        )

    def request_or_failure(self, url: str, **kwargs: Any) -> scrapy.Request | Failure:
        """``scrapy.Request(url, ...)``, or a ``parse`` failure saying what is
        wrong with ``url``: one bad entry never stops the list that holds it."""
        problem = url_problem(url)
        if problem is None:
            try:
                return scrapy.Request(url, **kwargs)
            except (ValueError, TypeError) as exc:
                problem = f"not a valid URL: {exc}"
        self.crawler.stats.inc_value("corpus/invalid_urls")
        self.logger.warning("Not fetching %r: %s", url[:200], problem)
        return Failure(url, "parse", problem)

    def bad_links(self, listing: str, what: str, links: list[BadLink]) -> Iterator[Failure]:
        """One ``parse`` failure per unusable link of a feed or sitemap."""
        for bad in links:
            self.crawler.stats.inc_value("corpus/invalid_urls")
            self.logger.warning(
                "Not following %r from %s %s: %s", bad.link[:200], what, listing, bad.reason
            )
            yield Failure(bad.link, "parse", f"{bad.reason} (listed in the {what} {listing})")

    def parse_article(self, response: Response, hints: dict[str, Any] | None = None) -> Page | None:
        if self.not_modified(response):
            return None
        return self.page_from(response, **(hints or {}))
