"""The progress line of a crawl, from Scrapy's stats. Pure: no Scrapy (:mod:`crawler.extensions.progress` logs it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Snapshot:
    at: float
    pages: int
    articles: int
    duplicates: int
    known: int
    failures: int
    queued: int

    @classmethod
    def from_stats(cls, stats: dict[str, Any], at: float, queued: int = 0) -> Snapshot:
        def total(prefix: str) -> int:
            return sum(v for k, v in stats.items() if k.startswith(prefix) and isinstance(v, int))

        return cls(
            at=at,
            # a web crawl's pages are its responses; a WARC ingest's are its
            # HTML response records (the archive file itself is one response)
            pages=stats.get("warc/records/pages") or stats.get("response_received_count", 0),
            # rows this crawl wrote: a stored article replaced by an earlier copy
            # is a duplicates row now (and no longer an article, if this crawl
            # had counted it as one)
            articles=total("corpus/articles/") - stats.get("corpus/replaced_in_crawl", 0),
            duplicates=total("corpus/duplicates/") + total("corpus/replaced/"),
            known=total("corpus/skipped/"),
            failures=total("corpus/failures/"),
            queued=queued,
        )


def summary_line(now: Snapshot, before: Snapshot | None) -> str:
    line = (
        f"{now.pages:,} pages, {now.articles:,} articles, {now.duplicates:,} duplicates, "
        f"{now.known:,} already known, {now.failures:,} failures"
    )
    if before is not None and now.at > before.at:
        rate = (now.pages - before.pages) / (now.at - before.at)
        line += f"; {rate:.1f} pages/s, {now.queued:,} queued"
    return line
