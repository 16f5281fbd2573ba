"""``sources.toml``: the named sources a scheduled crawl visits.

Pure: no Scrapy. A source has feeds, sitemaps and/or start URLs, and may set
its own politeness (``download_delay``, ``concurrency``) and cleaning rules
(``prune`` selectors and a ``body`` selector, applied to its hosts before
trafilatura). ``[defaults]`` apply to every source that does not say
otherwise. Mistakes are reported as one line naming the source and the key.

    [defaults]
    download_delay = 1.0

    [sources.harbour-herald]
    feeds = ["https://herald.example/rss.xml"]
    sitemaps = ["https://herald.example/news-sitemap.xml"]
    start = ["https://herald.example/local/"]
    depth = 1
    download_delay = 2.0
    prune = [".newsletter-box", "//aside[@class='related']"]
    body = "div.story-body"
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawler.listings.entries import parse_since
from crawler.netsafety import is_followable, url_problem
from crawler.urls import host_of

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_LISTS = ("feeds", "sitemaps", "start", "prune")
_KEYS = {*_LISTS, "depth", "download_delay", "concurrency", "body", "enabled", "since"}


class SourcesError(ValueError):
    """``sources.toml`` is wrong; ``str(exc)`` says where and why."""


@dataclass
class Source:
    name: str
    feeds: list[str] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)
    start: list[str] = field(default_factory=list)
    depth: int = 1
    download_delay: float | None = None
    concurrency: int | None = None
    prune: list[str] = field(default_factory=list)
    body: str | None = None
    enabled: bool = True
    since: str | None = None

    def hosts(self) -> set[str]:
        return {h for h in (host_of(u) for u in self.feeds + self.sitemaps + self.start) if h}

    def site_rules(self) -> dict[str, dict[str, Any]]:
        """Cleaning rules for :func:`crawler.extract.site_rules.apply_site_rules`, per host."""
        if not self.prune and not self.body:
            return {}
        rule: dict[str, Any] = {"prune": list(self.prune)}
        if self.body:
            rule["body"] = self.body
        return {host: rule for host in self.hosts()}


def _check(name: str, key: str, value: Any) -> Any:
    where = f"source {name!r}, key {key!r}"
    if key in _LISTS:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise SourcesError(f"{where}: expected a list of strings")
        value = [v.strip() for v in value]
        if key != "prune":
            for url in value:
                problem = url_problem(url)
                if problem is not None:
                    raise SourcesError(f"{where}: {url!r} is {problem}")
                if not is_followable(url):
                    raise SourcesError(f"{where}: {url!r} is not an http(s) URL")
        return value
    if key == "depth":
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 10:
            raise SourcesError(f"{where}: expected a whole number from 0 to 10")
    elif key == "download_delay":
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or not math.isfinite(value)
            or value < 0
        ):
            # inf would stop the source for good; nan compares false with everything
            raise SourcesError(f"{where}: expected a number of seconds, 0 or more")
        value = float(value)
    elif key == "concurrency":
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise SourcesError(f"{where}: expected a whole number, 1 or more")
    elif key == "enabled":
        if not isinstance(value, bool):
            raise SourcesError(f"{where}: expected true or false")
    elif key in ("body", "since"):
        if not isinstance(value, str) or not value.strip():
            raise SourcesError(f"{where}: expected a string")
        if key == "since":
            try:
                parse_since(value)
            except ValueError:
                raise SourcesError(f"{where}: expected a real date as YYYY-MM-DD") from None
    return value


def parse_sources(text: str) -> list[Source]:
    """Sources from the text of a ``sources.toml``, in file order."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SourcesError(f"not valid TOML: {exc}") from None
    unknown = set(data) - {"defaults", "sources"}
    if unknown:
        raise SourcesError(
            f"unknown top-level table {sorted(unknown)[0]!r} "
            "(expected [defaults] and [sources.NAME])"
        )
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise SourcesError("defaults: expected a table [defaults]")
    tables = data.get("sources") or {}
    if not isinstance(tables, dict):
        raise SourcesError("sources: expected tables [sources.NAME]")
    for key in defaults:
        if key not in _KEYS - {"feeds", "sitemaps", "start"}:
            raise SourcesError(f"[defaults]: unknown or per-source-only key {key!r}")
    sources = []
    for name, table in tables.items():
        if not _NAME.match(name):
            raise SourcesError(f"source name {name!r}: use letters, digits, '.', '_' and '-'")
        if not isinstance(table, dict):
            raise SourcesError(f"source {name!r}: expected a table [sources.{name}]")
        values: dict[str, Any] = {}
        for key, value in {**defaults, **table}.items():
            if key not in _KEYS:
                raise SourcesError(
                    f"source {name!r}: unknown key {key!r} (known: {', '.join(sorted(_KEYS))})"
                )
            values[key] = _check(name, key, value)
        source = Source(name=name, **values)
        if not (source.feeds or source.sitemaps or source.start):
            raise SourcesError(f"source {name!r}: give at least one of feeds, sitemaps or start")
        sources.append(source)
    if not sources:
        raise SourcesError("no sources: add a [sources.NAME] table")
    return sources


def load_sources(path: str | Path, only: list[str] | None = None) -> list[Source]:
    """Enabled sources of the file at ``path`` (all, or those named in ``only``)."""
    path = Path(path)
    if not path.is_file():
        raise SourcesError(f"config {str(path)!r} does not exist")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourcesError(f"cannot read config {str(path)!r}: {exc}") from None
    sources = parse_sources(text)
    if only:
        names = {s.name for s in sources}
        missing = [n for n in only if n not in names]
        if missing:
            raise SourcesError(
                f"no source named {missing[0]!r} in {str(path)!r} "
                f"(have: {', '.join(sorted(names))})"
            )
        return [s for s in sources if s.name in only]
    return [s for s in sources if s.enabled]
