"""The end of a crawl: what it touched, decided again in a canonical order.

Pure: no Scrapy. During a crawl the writer decides each page as it arrives
(:mod:`crawler.dedup.decision`, :mod:`crawler.storage.storyindex`): fast, but
the answer depends on the arrival order, which the cleaning workers change
from run to run. :func:`settle` (called by :meth:`Corpus.finish_crawl
<crawler.storage.corpus.Corpus.finish_crawl>` and by the scale-out drain at a
crawl's end) makes the crawl's result depend on its pages only:

1. **Duplicate groups** (:mod:`crawler.dedup.groups`). The connected copies
   of every copy the crawl saw: the copies it recorded (their texts kept by
   the writer until now, :func:`crawler.storage.writer.copies_table`), the
   articles it turned into copies, the stored articles those are copies of
   (by hash and by sketch), and the copies the online search found between
   articles. Each set of connected copies is decided again in the canonical
   order (:func:`crawler.dedup.groups.kept_and_copies`): the earliest
   published is kept, every later one is a duplicate of the closest article
   kept before it that it is a copy of, or kept itself. A copy kept now is
   written as an article, a stored article that is not becomes a duplicate
   (:func:`crawler.storage.writer.demote`).
2. **Stories.** The articles of every story the crawl changed (its articles
   joined it, re-partitioning moved some, a copy left it) are grouped again
   (:func:`crawler.stories.repartition.regroup`) in the canonical order
   (published, URL), as the writer would have grouped them arriving in that
   order: the term statistics grow with each article from those of the rest
   of the corpus (a new corpus's first :data:`COLD_START_DOCS` count from the
   start, as its cold-start regrouping does). Their key terms and stored
   weights become those of that replay, so that a later crawl finds them as
   if this one had come in that order.

The cost is that of what the crawl touched (its copies and the stories of its
articles), never that of the whole corpus.
"""

from __future__ import annotations

import json
import logging
import time
from array import array
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from crawler.dedup import near as neardup
from crawler.dedup.exact import content_hash
from crawler.dedup.groups import Links, Page, canonical_key, kept_and_copies
from crawler.extract.siteprofile import stored_lines, without_lines
from crawler.storage.db import write_transaction
from crawler.storage.storyindex import StoryIndex
from crawler.storage.writer import copies_table, demote
from crawler.stories import grouping as stories
from crawler.stories import repartition
from crawler.urls import host_of

logger = logging.getLogger(__name__)

#: a new corpus's first articles are grouped with the statistics of all of them
#: (crawler.storage.corpus.COLD_START_DOCS, which imports this module)
COLD_START_DOCS = 200

Row = dict[str, Any]


@dataclass
class Settled:
    """What :func:`settle` did (crawl statistics)."""

    groups: int = 0
    #: pages whose group changed its kept article or their kind
    changed: int = 0
    #: copies written as the article of their group, articles made copies
    promoted: int = 0
    demoted: int = 0
    #: articles grouped into stories again, and how many changed story
    story_articles: int = 0
    story_moved: int = 0
    #: wall time, and CPU time of the writer's thread (what settling costs)
    seconds: float = 0.0
    cpu_seconds: float = 0.0

    def stats(self) -> dict[str, float]:
        """Crawl statistics (counts and cost), when settling changed anything."""
        if not (self.changed or self.story_moved):
            return {}
        return {f"corpus/settle/{k}": v for k, v in vars(self).items()}


def _chunks(items: list[Any], size: int = 500) -> list[list[Any]]:
    return [items[k : k + size] for k in range(0, len(items), size)]


def _stripped(db: Database, rows: dict[str, Row]) -> None:
    """The copies' texts without their sites' learnt chrome lines, as the stored
    texts are (:mod:`crawler.storage.profiles`)."""
    lines: dict[str, frozenset[str]] = {}
    for url, row in rows.items():
        host = host_of(url) or ""
        if host not in lines:
            found = db.execute("SELECT lines FROM site_profiles WHERE host = ?", [host]).fetchone()
            lines[host] = frozenset(stored_lines(host, found[0])) if found else frozenset()
        text = without_lines(row.get("text") or "", lines[host]) if lines[host] else None
        if text is not None:
            row.update(text=text, content_hash=content_hash(text), word_count=len(text.split()))


def settle(
    db: Database,
    index: StoryIndex,
    crawl_id: int | None,
    links: list[tuple[str, str, float]] | None = None,
) -> Settled:
    """Settle the duplicate groups and the stories crawl ``crawl_id`` touched
    (see the module's docstring); ``links``: the copies the online search found."""
    t0, cpu0 = time.perf_counter(), time.thread_time()
    out = Settled()
    with write_transaction(db):
        _settle_groups(db, index, crawl_id, list(links or ()), out)
        index.finish()
        _settle_stories(db, index, crawl_id, out)
        index.finish()
        index.touched_stories.clear()
        db.execute(f"DELETE FROM {copies_table(db)} WHERE crawl_id IS ?", [crawl_id])
    out.seconds = round(time.perf_counter() - t0, 3)
    out.cpu_seconds = round(time.thread_time() - cpu0, 3)
    if out.changed or out.story_moved:
        logger.info(
            "Settled crawl %s: %d duplicate groups (%d pages changed, %d copies kept"
            " instead, %d articles made copies), %d articles regrouped (%d moved) in %.2f s"
            " (%.2f s CPU)",
            crawl_id,
            out.groups,
            out.changed,
            out.promoted,
            out.demoted,
            out.story_articles,
            out.story_moved,
            out.seconds,
            out.cpu_seconds,
        )
    return out


# --- duplicate groups -------------------------------------------------------------


def _settle_groups(
    db: Database,
    index: StoryIndex,
    crawl_id: int | None,
    links: list[tuple[str, str, float]],
    out: Settled,
) -> None:
    copies = {
        url: json.loads(row)
        for url, row in db.execute(
            f"SELECT url, row FROM {copies_table(db)} WHERE crawl_id IS ? ORDER BY url",
            [crawl_id],
        )
    }
    if not copies and not links:
        return
    # a URL that is an article is one (a copy's row is an older text of it)
    for chunk in _chunks(sorted(copies)):
        for (url,) in db.execute(
            f"SELECT url FROM articles WHERE url IN ({','.join('?' * len(chunk))})", chunk
        ):
            del copies[url]
    _stripped(db, copies)
    sketches = {url: neardup.sketch(row.get("text") or "") for url, row in copies.items()}
    found = Links()

    def link(a: str, b: str, sim: float) -> None:
        if a != b:
            found.link(a, b)

    # the copies among themselves: the same hash, or near copies
    by_hash: dict[str, str] = {}
    compared: dict[int, tuple[str, neardup.Sketch]] = {}
    postings: dict[int, list[str]] = defaultdict(list)
    for url, row in copies.items():
        first = by_hash.setdefault(row["content_hash"], url)
        if first != url:
            link(first, url, 1.0)
        sk = sketches[url]
        shared: dict[str, int] = defaultdict(int)
        for fp in sk.fingerprints:
            for other in postings[fp]:
                shared[other] += 1
            postings[fp].append(url)
        for other, n in shared.items():
            osk = sketches[other]
            if neardup.is_candidate(n, len(sk.fingerprints), len(osk.fingerprints)):
                sim = neardup.near_duplicate(sk, osk)
                if sim is not None:
                    link(url, other, sim)
        # ... and with the stored articles
        for (other,) in db.execute(
            "SELECT url FROM articles WHERE content_hash = ?", [row["content_hash"]]
        ):
            link(url, other, 1.0)
        for _aid, other, sim in index.near.copies(sk, compared):
            link(url, other, sim)
    # the stored articles' sketches, made once (by the index's search)
    for other, osk in compared.values():
        sketches.setdefault(other, osk)
    # the copies the online search found between pages (two kept articles, say)
    for a, b, sim in links:
        link(a, b, sim)
    groups = found.groups()
    stored = _stored(db, sorted({u for g in groups for u in g if u not in copies}))
    decided: list[tuple[str, list[tuple[str, str, float]]]] = []
    for group in groups:
        members = [u for u in group if u in copies or u in stored]
        if len(members) < 2:
            continue
        out.groups += 1
        decided += _kept_and_copies(members, copies, stored, sketches)
    # the articles kept first (a copy kept now is written), then their copies
    kept_ids: dict[str, int] = {}
    for kept, dups in decided:
        kept_ids[kept] = _keep(db, index, kept, dups, copies, stored, out, sketches.get(kept))
    for kept, dups in decided:
        _copies_of(db, index, crawl_id, kept_ids[kept], dups, copies, stored, out)


def _stored(db: Database, urls: list[str]) -> dict[str, Row]:
    found: dict[str, Row] = {}
    for chunk in _chunks(urls):
        cur = db.execute(
            "SELECT id, url, published, content_hash, text, story_id FROM articles"
            f" WHERE url IN ({','.join('?' * len(chunk))})",
            chunk,
        )
        names = [c[0] for c in cur.description]
        for values in cur:
            row = dict(zip(names, values, strict=True))
            found[row["url"]] = row
    return found


def _kept_and_copies(
    members: list[str],
    copies: dict[str, Row],
    stored: dict[str, Row],
    sketches: dict[str, neardup.Sketch],
) -> list[tuple[str, list[tuple[str, str, float]]]]:
    """:func:`crawler.dedup.groups.kept_and_copies` of a group's members."""
    pages = []
    for u in members:
        row = stored[u] if u in stored else copies[u]
        sk = sketches.get(u)
        if sk is None:
            sk = sketches[u] = neardup.sketch(row.get("text") or "")
        pages.append(Page(u, row.get("published"), row["content_hash"], sk))
    return kept_and_copies(pages)


def _keep(
    db: Database,
    index: StoryIndex,
    kept: str,
    dups: list[tuple[str, str, float]],
    copies: dict[str, Row],
    stored: dict[str, Row],
    out: Settled,
    sk: neardup.Sketch | None = None,
) -> int:
    """The id of the article ``kept``: a copy kept now is written, in the story of
    the best stored article among its copies (it is grouped again below)."""
    if kept in stored:
        return int(stored[kept]["id"])
    best = min(
        (u for u, _, _ in dups if u in stored),
        key=lambda u: canonical_key(stored[u].get("published"), u),
        default=None,
    )
    out.promoted += 1
    out.changed += 1
    return _promote(db, index, copies[kept], stored[best]["story_id"] if best else None, sk)


def _copies_of(
    db: Database,
    index: StoryIndex,
    crawl_id: int | None,
    kept_id: int,
    dups: list[tuple[str, str, float]],
    copies: dict[str, Row],
    stored: dict[str, Row],
    out: Settled,
) -> None:
    """Make ``dups`` (url, kind, similarity) the duplicates of ``kept_id``."""
    for url, kind, sim in dups:
        if url in stored:
            demote(db, index, stored[url]["id"], kept_id, sim, kind, crawl_id)
            out.demoted += 1
            out.changed += 1
            continue
        cur = db.execute(
            "SELECT article_id, kind, similarity FROM duplicates WHERE url = ?", [url]
        ).fetchone()
        if cur is not None and tuple(cur) == (kept_id, kind, sim):
            continue
        out.changed += 1
        if cur is not None:
            db.execute(
                "UPDATE duplicates SET article_id = ?, kind = ?, similarity = ? WHERE url = ?",
                [kept_id, kind, sim, url],
            )
        else:
            row = copies[url]
            db.execute(
                "INSERT INTO duplicates (url, fetched_url, article_id, kind, similarity, site,"
                " crawl_id, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    url,
                    row.get("fetched_url") or url,
                    kept_id,
                    kind,
                    sim,
                    row.get("site"),
                    crawl_id,
                    row.get("fetched_at"),
                ],
            )


def _promote(
    db: Database,
    index: StoryIndex,
    copy: Row,
    story_id: int | None,
    sk: neardup.Sketch | None = None,
) -> int:
    """Write a copy as an article (in ``story_id``, or the one it joins); its id
    (``sk``: the sketch of its text, when made already)."""
    columns = {r[1] for r in db.execute("PRAGMA table_info(articles)")}
    row = {k: v for k, v in copy.items() if k in columns and k not in ("id", "story_id")}
    story, tf = index.assign_story(
        row, story_id, dict(stories.terms(row.get("title"), row.get("text") or ""))
    )
    row["story_id"] = story
    cur = db.execute(
        f"INSERT INTO articles ({', '.join(row)}) VALUES ({', '.join(':' + c for c in row)})",
        row,
    )
    article_id = cur.lastrowid
    assert article_id is not None
    index.add(article_id, row, story, tf, sk)
    db.execute("DELETE FROM duplicates WHERE url = ?", [row["url"]])
    return article_id


# --- stories ---------------------------------------------------------------------


def _settle_stories(db: Database, index: StoryIndex, crawl_id: int | None, out: Settled) -> None:
    touched = set(index.touched_stories)
    touched.update(
        sid
        for (sid,) in db.execute(
            "SELECT DISTINCT story_id FROM articles WHERE crawl_id IS ? AND story_id IS NOT NULL",
            [crawl_id],
        )
    )
    rows: list[tuple] = []
    for chunk in _chunks(sorted(touched)):
        rows += db.execute(
            "SELECT id, url, title, text, published, published_guessed, story_id FROM articles"
            f" WHERE story_id IN ({','.join('?' * len(chunk))})",
            chunk,
        ).fetchall()
    if not rows:
        return
    rows.sort(key=lambda r: canonical_key(r[4], r[1]))
    tfs = [dict(stories.terms(r[2], r[3] or "")) for r in rows]
    docs = [
        repartition.Doc(rank, stories.day_of(r[4], bool(r[5])), tf)
        for rank, (r, tf) in enumerate(zip(rows, tfs, strict=True))
    ]
    weighed: dict[int, tuple[list[str], dict[str, float]]] = {}
    # as the writer would have grouped them arriving in this order: the term
    # statistics grow with each article, from those of the rest of the corpus,
    # and a new corpus's first COLD_START_DOCS count from the start, as its
    # cold-start regrouping does (without, the first articles of a one-site
    # crawl, compared while the statistics knew little, made one story of 66)
    base = stories.TermStats(index.stats.docs, array("I", index.stats.df))
    for doc in docs:
        base.add(doc.tf, sign=-1)
    ahead = max(0, COLD_START_DOCS - base.docs)
    story_of = repartition.regroup(docs, stats=base, progressive=True, ahead=ahead, weighed=weighed)
    members: dict[int, list[int]] = {}
    for rank in range(len(rows)):
        members.setdefault(story_of[rank], []).append(rank)
    groups = list(members.values())  # (in the order of their first member)
    labels = [r[6] for r in rows]
    changed: set[int] = set()
    for group, target in zip(groups, repartition.relabel(groups, labels), strict=True):
        if target is None:
            first = rows[group[0]]
            target = index.new_story({"title": first[2], "published": first[4]})
        moved = [rows[i][0] for i in group if labels[i] != target]
        if moved:
            changed.add(target)
            changed.update(labels[i] for i in group if labels[i] != target)
            index.move(moved, target)
            out.story_moved += len(moved)
    out.story_articles = len(rows)
    for rank, row in enumerate(rows):
        index.rekey(row[0], *weighed[rank])
    index.forget_pairs()
    for sid in sorted(changed):
        index.recount_sentences(sid)
    index.touch(changed)
