"""Re-run cleaning over the stored pages, without fetching anything.

Pure: no Scrapy. When the cleaner improves (or a site's rules or learnt
profile change), ``scrapy reclean`` calls :func:`reclean`: every article that
has its raw page (table ``pages``) goes through
:func:`crawler.extract.processing.process_page` again, and texts that changed are
updated in place (the full-text index follows through its triggers).
"""

from __future__ import annotations

import logging
import zlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from crawler.extract.processing import Options, process_page
from crawler.items import Article, Page
from crawler.storage.corpus import (
    HOST_RANGE,
    Corpus,
    host_range,
    load_site_profiles,
    now,
    write_transaction,
)

logger = logging.getLogger(__name__)

_FIELDS = (
    "title",
    "text",
    "content_hash",
    "word_count",
    "author",
    "published",
    "site",
    "language",
    "description",
)


@dataclass
class Report:
    pages: int = 0
    changed: int = 0
    unchanged: int = 0
    #: pages that no longer clean into an article: their stored text is kept.
    now_failing: list[tuple[str, str]] = field(default_factory=list)
    profile_lines: int = 0

    def summary(self) -> str:
        return (
            f"re-cleaned {self.pages} stored pages: {self.changed} texts changed, "
            f"{self.unchanged} unchanged, {len(self.now_failing)} no longer pass cleaning "
            f"(kept as they were)"
        )


def _rows(corpus: Corpus, site: str | None, after: int, limit: int) -> list[dict[str, Any]]:
    sql = (
        "SELECT a.id, a.url, a.text, a.title, p.fetched_url, p.content_type, "
        "p.declared_encoding, p.body FROM articles a JOIN pages p ON p.url = a.url "
        "WHERE a.id > ?"
    )
    params: list[Any] = [after]
    if site:
        sql += f" AND {HOST_RANGE.replace('url', 'a.url')}"
        params += host_range(site)
    return list(corpus.db.query(sql + " ORDER BY a.id LIMIT ?", [*params, limit]))


def _clean(args: tuple[int, Page, Options]) -> tuple[int, Any]:
    article_id, page, options = args
    return article_id, process_page(page, options)


def reclean(
    db_path: str | Path,
    options: Options,
    *,
    site: str | None = None,
    dry_run: bool = False,
    workers: int = 0,
    learn: bool = True,
    chunk: int = 200,
) -> Report:
    """Clean every stored page again; update the texts that changed.

    Pages are read, cleaned and written back ``chunk`` at a time, so memory
    stays flat however large the corpus is.
    """
    corpus = Corpus(db_path)
    report = Report()
    pool = ProcessPoolExecutor(workers) if workers > 0 else None
    try:
        if learn:
            hosts = {
                r[0].split("/")[2]
                for r in corpus.db.execute(
                    "SELECT url FROM articles WHERE url >= 'http' AND url < 'httq'"
                )
            }
            report.profile_lines = sum(
                corpus.learn_site_profiles(
                    {site} if site else hosts, dry_run=dry_run, strip=False
                ).values()
            )
            learnt = corpus.previewed if dry_run else load_site_profiles(db_path)
            options = replace(options, site_lines={**options.site_lines, **learnt})
        options = replace(options, keep_raw=False)
        last = 0
        while rows := _rows(corpus, site, last, chunk):
            last = rows[-1]["id"]
            old = {row["id"]: row for row in rows}
            tasks = [
                (
                    row["id"],
                    Page(
                        url=row["fetched_url"],
                        body=zlib.decompress(row["body"]),
                        content_type=row["content_type"],
                        declared_encoding=row["declared_encoding"],
                    ),
                    options,
                )
                for row in rows
            ]
            results = list(pool.map(_clean, tasks, chunksize=8)) if pool else map(_clean, tasks)
            updates = []
            for article_id, result in results:
                report.pages += 1
                if not isinstance(result, Article):
                    report.now_failing.append((old[article_id]["url"], result.reason))
                elif (
                    result.text == old[article_id]["text"]
                    and result.title == old[article_id]["title"]
                ):
                    report.unchanged += 1
                else:
                    report.changed += 1
                    updates.append((article_id, {f: getattr(result, f) for f in _FIELDS}))
            if updates and not dry_run:
                with write_transaction(corpus.db):
                    for article_id, values in updates:
                        # the dedup and story indexes follow the new text (same story)
                        corpus.index.remove(article_id)
                        corpus.db.table("articles").update(
                            article_id, values | {"updated_at": now()}
                        )
                        corpus.index.reindex(article_id)
                    corpus.index.finish()
    finally:
        if pool is not None:
            pool.shutdown()
        corpus.db.close()
    return report
