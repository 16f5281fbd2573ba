"""The batch writer: one transaction writes every row the pending batch holds.

Pure: no Scrapy. In the transaction, in this order:

1. the waiting articles, in arrival order: each joins a story (or starts
   one; an earlier copy replacing a stored article takes over its story) and
   is indexed (:mod:`crawler.storage.storyindex`) before the next one is grouped;
2. the waiting duplicates find their kept article (by URL for one that waited
   in the batch too);
3. stored articles replaced by an earlier copy become duplicates of it
   (:func:`demote`), and the duplicates that pointed at them follow;
4. updates keep the text they replace (``versions``) and are indexed again;
5. duplicates, failures and raw pages are written, the stories finished, and
   a URL that is now an article or a duplicate leaves ``failures``.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from sqlite_utils import Database

from crawler import features
from crawler.features import Features
from crawler.storage.db import now, write_transaction
from crawler.storage.pending import Pending, Row
from crawler.storage.storyindex import StoryIndex


def _stored_id(db: Database, url: str) -> int | None:
    row = db.execute("SELECT id FROM articles WHERE url = ?", [url]).fetchone()
    return row[0] if row else None


def _taken_over_story(db: Database, batch: Pending, url: str) -> int | None:
    """The story of the stored article ``url`` replaces, as it is now, if any."""
    old_id = batch.takes_over.get(url)
    if old_id is None:
        return None
    row = db.execute("SELECT story_id FROM articles WHERE id = ?", [old_id]).fetchone()
    return row[0] if row else None


def write_batch(
    db: Database,
    batch: Pending,
    index: StoryIndex,
    crawl_id: int | None,
    cold_features: dict[int, tuple[str | None, str, Features]] | None = None,
    extra: Callable[[Database], None] | None = None,
) -> None:
    """Write every row of ``batch`` in one transaction (see the module's
    docstring); ``cold_features`` collects the features of the articles written
    (article id -> title, text, features) until the cold-start regrouping;
    ``extra(db)`` runs last, inside the same transaction (rows that must commit
    with the batch, never before it: a WARC file's progress)."""
    with write_transaction(db):
        # In arrival order: each article joins a story (or starts one) and is
        # indexed before the next one is grouped.
        insert_sql = None
        for row in batch.articles.values():
            feats = batch.features.get(row["url"]) or features.compute(
                row.get("title"), row.get("text") or ""
            )
            story_id, tf = index.assign_story(
                row, _taken_over_story(db, batch, row["url"]), feats.terms
            )
            row["story_id"] = story_id
            if insert_sql is None:
                insert_sql = (
                    f"INSERT INTO articles ({', '.join(row)}) VALUES"
                    f" ({', '.join(':' + c for c in row)})"
                )
            article_id = db.execute(insert_sql, row).lastrowid
            assert article_id is not None  # (an INSERT gives its row's id)
            index.add(article_id, row, story_id, tf, feats.sketch, feats.sentences)
            if cold_features is not None:
                cold_features[article_id] = (row.get("title"), row["text"], feats)
        # Duplicates found in this batch point at their kept article, found now
        # (by URL for one waiting in the batch), before a demotion removes it.
        dups = []
        for row in batch.duplicates.values():
            row = dict(row)
            kept_url = row.pop("kept_url")
            if row["article_id"] is None and kept_url:
                row["article_id"] = _stored_id(db, kept_url)
            dups.append(row)
        # stored articles replaced by an earlier copy written in this batch:
        # old id -> the earlier copy's id (a demotion whose copy turned out a
        # duplicate itself, and was not written, does not happen)
        demoted: dict[int, int] = {}
        for d in batch.demotions:
            new = _stored_id(db, d.new_url)
            if new is not None:
                demote(db, index, d.old_id, new, d.similarity, d.kind, crawl_id)
                demoted[d.old_id] = new
        for row in dups:
            # a copy of an article an earlier copy has just replaced: of that one
            row["article_id"] = demoted.get(row["article_id"], row["article_id"])
        for update in batch.updates:
            row = dict(update)  # (the batch keeps its rows whole, should the write fail)
            article_id = row.pop("id")
            version = row.pop("_version", True)
            if article_id in demoted:
                # an earlier copy replaced it in this batch: its URL is a duplicate
                # now, and a duplicate keeps no text
                continue
            # Keep the text this update replaces (not the text of another address
            # of the article: a variant it replaces is no earlier version; nor a
            # text this crawl stored itself: a crawl keeps the text it ranks
            # first, and what it had before, whatever its pages' order).
            if version:
                db.execute(
                    "INSERT INTO versions (article_id, url, title, text, content_hash,"
                    " fetched_at, replaced_at, crawl_id) SELECT id, url, title, text,"
                    " content_hash, fetched_at, ?, ? FROM articles WHERE id = ?"
                    " AND (? IS NULL OR crawl_id IS NOT ?)",
                    [now(), crawl_id, article_id, crawl_id, crawl_id],
                )
            index.remove(article_id)
            db.table("articles").update(article_id, row)
            index.reindex(article_id)
        if dups:
            db.table("duplicates").upsert_all(dups, pk="url", alter=False)
        keep_copies(db, [row for url, row in batch.copies.items() if url in batch.duplicates])
        if batch.failures:
            db.conn.executemany(
                "INSERT INTO failures (url, stage, reason, http_status, crawl_id, at, "
                "first_at, attempts) VALUES (:url, :stage, :reason, :http_status, "
                ":crawl_id, :at, :first_at, 1) ON CONFLICT(url) DO UPDATE SET "
                "stage = excluded.stage, reason = excluded.reason, "
                "http_status = excluded.http_status, crawl_id = excluded.crawl_id, "
                "at = excluded.at, attempts = failures.attempts + 1",
                list(batch.failures.values()),
            )
        if batch.pages:
            db.table("pages").upsert_all(list(batch.pages.values()), pk="url")
        index.finish()
        # A URL that failed before and is now an article (or a duplicate)
        # leaves the failures table: every URL is in exactly one place.
        done = [u for r in batch.articles.values() for u in (r["url"], r["fetched_url"])]
        done += [u for r in batch.duplicates.values() for u in (r["url"], r["fetched_url"])]
        for k in range(0, len(done), 500):
            chunk = done[k : k + 500]
            db.execute(f"DELETE FROM failures WHERE url IN ({','.join('?' * len(chunk))})", chunk)
        if extra is not None:
            extra(db)


def copies_table(db: Database) -> str:
    """The writer's own table of the texts of the copies a crawl did not keep:
    each duplicate (exact or near) it recorded and each stored article it turned
    into one, with its whole article row (JSON), until the crawl ends and
    settles its duplicate groups (:mod:`crawler.storage.settle`; a copy may then
    turn out to be the article its group keeps). A TEMP table: it lives as long
    as the writer's connection, no reader sees it, and the corpus schema stays."""
    db.execute(
        "CREATE TEMP TABLE IF NOT EXISTS crawl_copies (url TEXT PRIMARY KEY, crawl_id INTEGER,"
        " row TEXT NOT NULL)"
    )
    return "temp.crawl_copies"


def keep_copies(db: Database, rows: list[Row], crawl_id: int | None = None) -> None:
    """Keep the article rows of copies not kept (:func:`copies_table`), for the
    end of the crawl (:mod:`crawler.storage.settle`)."""
    if rows:
        copies_table(db)
        db.conn.executemany(
            "INSERT OR REPLACE INTO crawl_copies (url, crawl_id, row) VALUES (?, ?, ?)",
            [
                (
                    r["url"],
                    r.get("crawl_id") if crawl_id is None else crawl_id,
                    json.dumps(r, ensure_ascii=False, sort_keys=True, default=str),
                )
                for r in rows
            ],
        )


def demote(
    db: Database,
    index: StoryIndex,
    old_id: int,
    new_id: int,
    similarity: float,
    kind: str,
    crawl_id: int | None,
) -> None:
    """A stored article turned out to be a later copy of ``new_id``: make it a duplicate."""
    cur = db.execute("SELECT * FROM articles WHERE id = ?", [old_id])
    found = cur.fetchone()
    if found is None:
        return
    row = dict(zip([c[0] for c in cur.description], found, strict=True))
    old = (row["url"], row["fetched_url"], row["site"])
    # its text stays until the crawl settles its duplicate groups (it may turn out kept)
    keep_copies(db, [{k: v for k, v in row.items() if k not in ("id", "story_id")}], crawl_id)
    index.remove(old_id)
    db.execute("UPDATE duplicates SET article_id = ? WHERE article_id = ?", [new_id, old_id])
    db.execute(
        "INSERT INTO duplicates (url, fetched_url, article_id, kind, similarity, site,"
        " crawl_id, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(url) DO UPDATE"
        " SET article_id = excluded.article_id, kind = excluded.kind,"
        " similarity = excluded.similarity",
        [old[0], old[1], new_id, kind, similarity, old[2], crawl_id, now()],
    )
    # its earlier texts stay, with the kept article (versions.url says whose they were)
    db.execute("UPDATE versions SET article_id = ? WHERE article_id = ?", [new_id, old_id])
    db.execute("DELETE FROM articles WHERE id = ?", [old_id])
