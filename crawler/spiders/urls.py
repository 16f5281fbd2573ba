"""``scrapy crawl urls -a urls=URL[,URL...]`` or ``-a file=PATH``: given article URLs.

A URL that is not http(s) becomes a ``failures`` row (stage ``validate``)
and is never fetched; so does one that is no valid URL (a port out of range, a
broken IPv6 host: stage ``parse``), and one refused by robots.txt (stage
``download``). The other URLs of the list are crawled all the same.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from crawler.items import Failure
from crawler.netsafety import is_followable, url_problem
from crawler.spiders import ArgumentError, WebSpider, split_urls, unknown_arguments


def read_url_file(text: str) -> list[str]:
    """One URL a line; blank lines and ``#`` comments ignored."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


def _text_of(data: bytes) -> str:
    """A URL list's text: UTF-8 (a BOM allowed), or UTF-16 with its BOM (Windows
    Notepad's "Unicode"). A line that is not UTF-8 keeps its bytes as lone
    surrogates: it becomes its own failure (url_problem), not the whole list's."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16", "surrogatepass")
    return data.decode("utf-8-sig", "surrogateescape")


def given_urls(urls: str | None = None, file: str | None = None) -> list[str]:
    """The URLs a user gave, or :class:`ArgumentError`."""
    if bool(urls) == bool(file):
        raise ArgumentError("give either -a urls=URL[,URL...] or -a file=PATH (one URL a line)")
    if file:
        path = Path(file).expanduser()
        if not path.is_file():
            raise ArgumentError(f"file {file!r} does not exist or is not a file")
        try:
            found = read_url_file(_text_of(path.read_bytes()))
        except OSError as exc:
            raise ArgumentError(f"file {file!r} cannot be read: {exc}") from None
        if not found:
            raise ArgumentError(f"file {file!r} lists no URLs")
    else:
        found = split_urls(urls)
        if not found:
            raise ArgumentError("give either -a urls=URL[,URL...] or -a file=PATH (one URL a line)")
    if not any(is_followable(u) for u in found):
        raise ArgumentError("no http(s) URL given")
    return found


class UrlsSpider(WebSpider):
    name = "urls"

    def __init__(
        self, urls: str | None = None, file: str | None = None, *args: Any, **kwargs: Any
    ) -> None:
        named = {k: v for k, v in (("urls", urls), ("file", file)) if v}
        super().__init__(*args, **kwargs)
        self.arguments.update(named)  # recorded, not set as attributes (``start`` is a method)
        self.urls = given_urls(urls, file)

    @classmethod
    def check_arguments(cls, **kwargs: Any) -> None:
        unknown_arguments(kwargs, {"urls", "file"})
        given_urls(kwargs.get("urls"), kwargs.get("file"))

    async def start(self) -> AsyncIterator[Any]:
        self.crawler.stats.set_value("urls/given", len(self.urls))
        for url in self.urls:
            problem = url_problem(url)
            if problem is not None:
                yield self.request_or_failure(url)  # the parse failure saying why
                continue
            if not is_followable(url):
                self.crawler.stats.inc_value("urls/not_web")
                yield Failure(
                    url,
                    "validate",
                    "not an http(s) URL: only web pages are fetched "
                    "(use the files spider for local files)",
                )
                continue
            cond = self.conditional(url)
            yield self.request_or_failure(
                url,
                callback=self.parse_article,
                errback=self.request_failed,
                dont_filter=True,
                headers=cond.get("headers"),
                meta=cond.get("meta", {}),
            )
