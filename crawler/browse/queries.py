"""The SQL behind the story pages and the crawl health page.

Plain functions over a ``sqlite3.Connection`` (Datasette runs them with
``Database.execute_fn``, on its read connection, in its thread pool), each
returning plain values. Every query walks an index: ``stories`` in size
order, ``articles(story_id)`` for a story's articles, ``story_sentences
(article_id, position)`` for the shared sentences, ``duplicates(article_id)``
for the duplicates; a stories list or a story page reads the rows it shows,
not the corpus.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass, field
from typing import Any

#: stories per page of the stories list
STORIES_PER_PAGE = 50
#: articles shown side by side per page of a story
COLUMNS_PER_PAGE = 8
#: at most this many articles on a story's timeline (the earliest)
TIMELINE_MAX = 2000
#: at most this many stories a search looks at (the matching articles' stories)
SEARCH_MATCHES_MAX = 20000


def _rows(conn: sqlite3.Connection, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> list:
    cur = conn.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _has_index(conn: sqlite3.Connection, name: str) -> bool:
    return (
        conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?", [name]
        ).fetchone()
        is not None
    )


def fts_query(text: str) -> str | None:
    """A user's search words as a safe FTS5 query: every word (or "quoted
    phrase") must occur; FTS5 operators and punctuation are taken literally."""
    terms = []
    for phrase, word in re.findall(r'"([^"]*)"|([^\s"]+)', text):
        words = re.findall(r"\w+", phrase or word)
        if words:
            terms.append('"' + " ".join(words) + '"')
    return " ".join(terms) or None


@dataclass
class StoryRow:
    """One story of the stories list."""

    id: int
    title: str | None
    article_count: int
    first: str | None = None
    last: str | None = None
    outlets: list[tuple[str, int]] = field(default_factory=list)
    per_day: dict[str, int] = field(default_factory=dict)
    undated: int = 0


@dataclass
class StoriesPage:
    stories: list[StoryRow]
    total: int
    page: int
    pages: int
    query: str | None
    #: a search matched more than SEARCH_MATCHES_MAX articles (the first are used)
    capped: bool = False


def stories_page(
    conn: sqlite3.Connection, q: str | None = None, page: int = 1, per_page: int = STORIES_PER_PAGE
) -> StoriesPage:
    """The stories, largest first (``q``: only those with an article matching
    the search words), ``per_page`` at a time, with their outlets, first and
    last publication and articles per day."""
    page = max(1, page)
    capped = False
    match = fts_query(q) if q else None
    if q and match is None:
        return StoriesPage([], 0, 1, 1, q)
    if match is None:
        total = conn.execute("SELECT count(*) FROM stories").fetchone()[0]
        rows = _rows(
            conn,
            "SELECT id, title, article_count FROM stories"
            " ORDER BY article_count DESC, id LIMIT ? OFFSET ?",
            [per_page, (page - 1) * per_page],
        )
    else:
        # each matching article's story, through the index on articles
        # (id, story_id) when the corpus has it (m009; a corpus opened
        # read-only before its next crawl may not): no article row is read
        hint = (
            "INDEXED BY idx_articles_id_story_id"
            if _has_index(conn, "idx_articles_id_story_id")
            else ""
        )
        found = [
            r[0]
            for r in conn.execute(
                "SELECT a.story_id FROM (SELECT rowid FROM articles_fts"
                f" WHERE articles_fts MATCH ? LIMIT {SEARCH_MATCHES_MAX}) m"
                f" JOIN articles a {hint} ON a.id = m.rowid",
                [match],
            )
            if r[0] is not None
        ]
        capped = len(found) >= SEARCH_MATCHES_MAX
        distinct = list(dict.fromkeys(found))
        total = len(distinct)
        rows = _rows(
            conn,
            "SELECT id, title, article_count FROM stories WHERE id IN"
            " (SELECT value FROM json_each(?)) ORDER BY article_count DESC, id LIMIT ? OFFSET ?",
            [json.dumps(distinct), per_page, (page - 1) * per_page],
        )
    stories = [StoryRow(r["id"], r["title"], r["article_count"] or 0) for r in rows]
    _add_outlets_and_days(conn, stories)
    pages = max(1, -(-total // per_page))
    return StoriesPage(stories, total, page, pages, q, capped)


def _add_outlets_and_days(conn: sqlite3.Connection, stories: list[StoryRow]) -> None:
    if not stories:
        return
    by_id = {s.id: s for s in stories}
    marks = ",".join("?" * len(by_id))
    outlets: dict[int, dict[str, int]] = {}
    for sid, site, day, first, last, n in conn.execute(
        "SELECT story_id, coalesce(site, ''), substr(published, 1, 10), min(published),"
        f" max(published), count(*) FROM articles WHERE story_id IN ({marks})"
        " GROUP BY story_id, site, substr(published, 1, 10)",
        list(by_id),
    ):
        story = by_id[sid]
        counts = outlets.setdefault(sid, {})
        counts[site] = counts.get(site, 0) + n
        if day is None:
            story.undated += n
            continue
        story.per_day[day] = story.per_day.get(day, 0) + n
        story.first = first if story.first is None or first < story.first else story.first
        story.last = last if story.last is None or last > story.last else story.last
    for sid, counts in outlets.items():
        by_id[sid].outlets = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


@dataclass
class Story:
    id: int
    title: str | None
    article_count: int
    #: every article (up to TIMELINE_MAX): id, site, published
    timeline: list[dict[str, Any]]
    #: the articles shown side by side, each with its shared sentence keys and duplicates
    columns: list[dict[str, Any]]
    offset: int
    total: int


def story(
    conn: sqlite3.Connection, story_id: int, offset: int = 0, limit: int = COLUMNS_PER_PAGE
) -> Story | None:
    """Story ``story_id``: its articles in publication order (undated last),
    ``limit`` of them from ``offset`` in full, with the keys of their
    sentences other outlets' articles also have and their duplicates."""
    head = conn.execute(
        "SELECT id, title, article_count FROM stories WHERE id = ?", [story_id]
    ).fetchone()
    if head is None:
        return None
    # what the index on articles (story_id, published, site) covers: no text is read
    order = "ORDER BY published IS NULL, published, id"
    timeline = _rows(
        conn,
        f"SELECT id, site, published FROM articles WHERE story_id = ? {order} LIMIT ?",
        [story_id, TIMELINE_MAX],
    )
    total = conn.execute("SELECT count(*) FROM articles WHERE story_id = ?", [story_id]).fetchone()[
        0
    ]
    offset = max(0, min(offset, max(0, total - 1)))
    if offset + limit <= len(timeline):
        ids = [a["id"] for a in timeline[offset : offset + limit]]
    else:
        ids = [
            r[0]
            for r in conn.execute(
                f"SELECT id FROM articles WHERE story_id = ? {order} LIMIT ? OFFSET ?",
                [story_id, limit, offset],
            )
        ]
    # then the texts of the articles shown, and only those
    by_id = {
        r["id"]: r
        for r in _rows(
            conn,
            "SELECT id, url, title, text, author, published, site, language FROM articles"
            f" WHERE id IN ({','.join('?' * len(ids))})",
            ids,
        )
    }
    columns = [by_id[i] for i in ids if i in by_id]
    for c in columns:
        c["shared_keys"] = set()
        c["duplicates"] = []
    if by_id:
        marks = ",".join("?" * len(by_id))
        for aid, key in conn.execute(
            f"SELECT article_id, key FROM story_sentences WHERE article_id IN ({marks})"
            " AND outlets > 0 AND key IS NOT NULL",
            list(by_id),
        ):
            by_id[aid]["shared_keys"].add(key)
        for d in _rows(
            conn,
            "SELECT article_id, url, kind, similarity, site, seen_at FROM duplicates"
            f" WHERE article_id IN ({marks}) ORDER BY article_id, id",
            list(by_id),
        ):
            by_id[d.pop("article_id")]["duplicates"].append(d)
    return Story(head[0], head[1], head[2] or total, timeline, columns, offset, total)


@dataclass
class Health:
    days: list[str]
    #: stage -> day -> failures
    by_stage: dict[str, dict[str, int]]
    #: host -> day -> failures (the hosts with the most failures)
    by_site: dict[str, dict[str, int]]
    totals: dict[str, int]
    crawls: list[dict[str, Any]]


#: the host of a failure's URL, in SQL (``scheme://host[:port]/...``; files have none)
_HOST = (
    "CASE WHEN instr(url, '://') > 0 THEN substr(substr(url, instr(url, '://') + 3), 1,"
    " instr(substr(url, instr(url, '://') + 3) || '/', '/') - 1) ELSE '' END"
)


def health(conn: sqlite3.Connection, days: int = 30, sites: int = 20) -> Health:
    """Failures per stage and per site (host) on each of the last ``days``
    days that had failures, and the latest crawls with their counts."""
    day_list = [
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT substr(at, 1, 10) AS day FROM failures WHERE at IS NOT NULL"
            " ORDER BY day DESC LIMIT ?",
            [days],
        )
    ][::-1]
    since = day_list[0] if day_list else "9999"
    by_stage: dict[str, dict[str, int]] = {}
    for stage, day, n in conn.execute(
        "SELECT coalesce(stage, '(none)'), substr(at, 1, 10), count(*) FROM failures"
        " WHERE at >= ? GROUP BY 1, 2",
        [since],
    ):
        by_stage.setdefault(stage, {})[day] = n
    top = [
        r[0]
        for r in conn.execute(
            f"SELECT {_HOST} AS host, count(*) AS n FROM failures WHERE at >= ?"
            " GROUP BY host ORDER BY n DESC, host LIMIT ?",
            [since, sites],
        )
    ]
    by_site: dict[str, dict[str, int]] = {h: {} for h in top}
    if top:
        marks = ",".join("?" * len(top))
        for host, day, n in conn.execute(
            f"SELECT {_HOST} AS host, substr(at, 1, 10), count(*) FROM failures"
            f" WHERE at >= ? AND {_HOST} IN ({marks}) GROUP BY 1, 2",
            [since, *top],
        ):
            by_site[host][day] = n
    totals = {
        t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("articles", "duplicates", "failures", "crawls")
    }
    crawls = _rows(
        conn,
        "SELECT c.id, c.spider, c.args, c.started_at, c.finished_at, c.finish_reason,"
        " (SELECT count(*) FROM failures f WHERE f.crawl_id = c.id) AS failures,"
        " (SELECT count(*) FROM duplicates d WHERE d.crawl_id = c.id) AS duplicates"
        " FROM crawls c ORDER BY c.id DESC LIMIT 10",
    )
    return Health(day_list, by_stage, by_site, totals, crawls)
