#!/usr/bin/env python3
"""Comparable-coverage bench: from one seed article to its story, as a user would.

Reads the shared stories bench (``dev``) at run time and never copies it into
the repo:

1. a local HTTP server on 127.0.0.1 serves every dev article as a page
   (``/p/<corpus>/<id>.html``; title, paragraphs, ``article:published_time``
   and ``og:site_name`` when the record has them) and a news-search endpoint
   over that pool: ``/gdelt`` answers GDELT DOC 2.0 ``ArtList`` JSON
   (``query``, ``startdatetime``, ``enddatetime``), ``/rss`` an RSS feed
   (``q`` with ``after:YYYY-MM-DD`` / ``before:YYYY-MM-DD``). Both rank by
   BM25 (k1 1.2, b 0.75) over title and text, quoted phrases as one term,
   and answer the top 20 inside the date window. A pool article without a date
   is inside every window (the endpoint has no date to filter it on);
2. one seed per story with at least 4 articles (the article with the smallest
   SHA-1 of its id: arbitrary, fixed), all seeds in one file, crawled into one
   corpus with the real ``scrapy crawl comparable -a seeds=FILE``;
3. for each seed, its story in the corpus (duplicates count in their kept
   article's story) against the gold story:

   * recall: the gold story's other articles that joined the seed's story, over
     the gold story's other articles;
   * precision: the seed story's other members that belong to the gold story,
     over the seed story's other members;

   both summed over the seeds (micro averages), overall and for the two halves
   of the ECB+ topics (odd, even: a check that a change does not fit one half).
   Beside them, two baselines: the seed's title (the crawler's title when the
   record has none) as a BM25 query, its top 10 taken as the story; and what
   the endpoint could return at all: the gold articles among every answer the
   crawl received (and the same queries without date windows).

Usage::

    .venv/bin/python bench/comparable.py                      # ../shared/bench/stories
    .venv/bin/python bench/comparable.py --endpoint rss --json out.json
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import math
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from datetime import UTC, date, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from storybench import DEFAULT_BENCH, REPO, found, half_of, load_records
from storybench import page as page_text

TOP = 20
MIN_STORY = 4
_TOKEN = re.compile(r"\w+", re.UNICODE)
_QUERY_PART = re.compile(r'"([^"]*)"|(\S+)')


def local_path(rec: dict) -> str:
    return f"/p/{rec['id']}.html"


def page(rec: dict, url: str) -> bytes:
    return page_text(rec, url).encode()


# --- the search endpoint ------------------------------------------------------------


class Pool:
    """BM25 over title and text of the pool, phrases as one term."""

    def __init__(self, records: list[dict], k1: float = 1.2, b: float = 0.75) -> None:
        self.records = records
        self.tokens = [
            _TOKEN.findall(f"{r.get('title') or ''} {r['text']}".lower()) for r in records
        ]
        self.counts = [Counter(t) for t in self.tokens]
        self.avg = sum(map(len, self.tokens)) / len(self.tokens)
        self.df: Counter[str] = Counter()
        for c in self.counts:
            self.df.update(c.keys())
        self.k1, self.b = k1, b
        self.days = [_day(r.get("published")) for r in records]

    def _tf(self, i: int, term: tuple[str, ...]) -> int:
        if len(term) == 1:
            return self.counts[i][term[0]]
        toks, n = self.tokens[i], len(term)
        if any(t not in self.counts[i] for t in term):
            return 0
        return sum(1 for j in range(len(toks) - n + 1) if tuple(toks[j : j + n]) == term)

    def search(
        self, query: str, start: int | None = None, end: int | None = None, top: int = TOP
    ) -> list[int]:
        terms = []
        for phrase, word in _QUERY_PART.findall(query):
            if word and (word in ("OR", "AND") or ":" in word):
                continue
            toks = tuple(_TOKEN.findall((phrase or word).lower()))
            if toks:
                terms.append(toks)
        n = len(self.records)
        scores: dict[int, float] = defaultdict(float)
        for term in terms:
            tfs = {i: tf for i in range(n) if (tf := self._tf(i, term))}
            if not tfs:
                continue
            idf = math.log(1 + (n - len(tfs) + 0.5) / (len(tfs) + 0.5))
            for i, tf in tfs.items():
                norm = self.k1 * (1 - self.b + self.b * len(self.tokens[i]) / self.avg)
                scores[i] += idf * tf * (self.k1 + 1) / (tf + norm)
        hits = [
            i
            for i in scores
            if self.days[i] is None
            or ((start is None or self.days[i] >= start) and (end is None or self.days[i] <= end))
        ]
        hits.sort(key=lambda i: (-scores[i], self.records[i]["id"]))
        return hits[:top]


def _day(value: str | None) -> int | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10]).toordinal()
    except ValueError:
        return None


def _gdelt_day(value: str | None) -> int | None:
    if not value:
        return None
    try:
        return datetime.strptime(value[:8], "%Y%m%d").toordinal()
    except ValueError:
        return None


def _pub_date(value: str | None) -> str:
    if not value or _day(value) is None:
        return ""
    when = datetime.fromisoformat(value[:10]).replace(hour=12, tzinfo=UTC)
    return f"<pubDate>{format_datetime(when, usegmt=True)}</pubDate>"


def parse_search(path: str) -> tuple[str, str, int | None, int | None] | None:
    """(endpoint, query, first day, last day) of a search request, or None."""
    parts = urlsplit(path)
    args = {k: v[0] for k, v in parse_qs(parts.query).items()}
    if parts.path == "/gdelt":
        return (
            "gdelt",
            args.get("query", ""),
            _gdelt_day(args.get("startdatetime")),
            _gdelt_day(args.get("enddatetime")),
        )
    if parts.path == "/rss":
        q = args.get("q", "")
        after = re.search(r"after:(\d{4}-\d\d-\d\d)", q)
        before = re.search(r"before:(\d{4}-\d\d-\d\d)", q)
        return (
            "rss",
            q,
            _day(after.group(1)) if after else None,
            _day(before.group(1)) if before else None,
        )
    return None


def make_server(pool: Pool) -> tuple[ThreadingHTTPServer, list[dict]]:
    by_path = {local_path(r): r for r in pool.records}
    log: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def send(self, status: int, body: bytes, ctype: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            path = urlsplit(self.path).path
            if path in by_path:
                return self.send(200, page(by_path[path], base + path), "text/html; charset=utf-8")
            found = parse_search(self.path)
            if found is None:
                return self.send(404, b"not found", "text/plain")
            kind, q, start, end = found
            hits = pool.search(q, start, end)
            log.append({"kind": kind, "query": q, "start": start, "end": end, "hits": hits})
            recs = [pool.records[i] for i in hits]
            if kind == "gdelt":
                arts = []
                for r in recs:
                    art = {"url": base + local_path(r), "title": r.get("title") or ""}
                    art["domain"] = r.get("source") or "127.0.0.1"
                    if r.get("published"):
                        art["seendate"] = r["published"][:10].replace("-", "") + "T120000Z"
                    arts.append(art)
                body = json.dumps({"articles": arts} if arts else {}).encode()
                return self.send(200, body, "application/json")
            items = "".join(
                f"<item><title>{html.escape(r.get('title') or '')}</title>"
                f"<link>{base}{local_path(r)}</link>{_pub_date(r.get('published'))}</item>"
                for r in recs
            )
            feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>s</title>{items}</channel></rss>'
            return self.send(200, feed.encode(), "application/rss+xml")

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler), log


TEMPLATES = {
    "gdelt": "{base}/gdelt?query={{query}}&mode=ArtList&format=json&maxrecords=75"
    "&startdatetime={{start}}&enddatetime={{end}}",
    "rss": "{base}/rss?q={{query}}+after:{{start_date}}+before:{{end_date}}&hl=en-US",
}


# --- the crawl and its scores -------------------------------------------------------


def seeds_of(records: list[dict]) -> list[dict]:
    by_story: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        by_story[r["story"]].append(r)
    return [
        min(members, key=lambda r: hashlib.sha1(r["id"].encode()).hexdigest())
        for _, members in sorted(by_story.items())
        if len(members) >= MIN_STORY
    ]


def crawl(base: str, seeds_file: Path, db: Path, endpoint: str, days: int) -> tuple[int, str]:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            "crawl",
            "comparable",
            "-a",
            f"seeds={seeds_file}",
            "-a",
            "search=" + TEMPLATES[endpoint].format(base=base),
            "-a",
            f"days={days}",
            "-s",
            f"CORPUS_DB={db}",
            "-s",
            "ALLOW_PRIVATE_NETWORKS=True",
            "-s",
            "AUTOTHROTTLE_ENABLED=False",
            "-s",
            "DOWNLOAD_DELAY=0",
            "-s",
            "CONCURRENT_REQUESTS=1",
            "-s",
            "CLEAN_WORKERS=0",
            "-s",
            "LOG_LEVEL=WARNING",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    return proc.returncode, proc.stderr[-3000:]


def read_back(db: Path, by_path: dict[str, dict]) -> tuple[dict[str, int], dict[str, str], dict]:
    """bench id -> story id, bench id -> stored title, the crawl's stats."""
    conn = sqlite3.connect(db)
    story: dict[str, int] = {}
    titles: dict[str, str] = {}
    kept: dict[int, int] = {}
    for url, sid, aid, title in conn.execute(
        "SELECT fetched_url, story_id, id, title FROM articles"
    ):
        rec = by_path.get(urlsplit(url).path)
        if rec:
            story[rec["id"]] = sid
            titles[rec["id"]] = title or ""
            kept[aid] = sid
    for url, aid in conn.execute("SELECT fetched_url, article_id FROM duplicates"):
        rec = by_path.get(urlsplit(url).path)
        if rec and aid in kept:
            story[rec["id"]] = kept[aid]
    row = conn.execute("SELECT stats FROM crawls ORDER BY id DESC LIMIT 1").fetchone()
    conn.close()
    return story, titles, json.loads(row[0]) if row and row[0] else {}


class Tally:
    def __init__(self) -> None:
        self.found = self.wanted = self.good = self.members = 0

    def add(self, gold: set[str], seed: str, predicted: set[str]) -> None:
        others, pred = gold - {seed}, predicted - {seed}
        self.found += len(pred & others)
        self.wanted += len(others)
        self.good += len(pred & gold)
        self.members += len(pred)

    def figures(self, with_precision: bool = True) -> dict[str, float | None]:
        return {
            "recall": round(self.found / self.wanted, 3) if self.wanted else None,
            "precision": round(self.good / self.members, 3)
            if self.members and with_precision
            else None,
        }


def window_of(rec: dict, days: int) -> tuple[int | None, int | None]:
    d = _day(rec.get("published"))
    return (None, None) if d is None else (d - days, d + days)


def run(bench: Path, endpoint: str, days: int, keep: Path | None) -> dict:
    records = load_records(bench)
    pool = Pool(records)
    index = {r["id"]: i for i, r in enumerate(records)}
    gold: dict[str, set[str]] = defaultdict(set)
    for r in records:
        gold[r["story"]].add(r["id"])
    seeds = seeds_of(records)
    server, log = make_server(pool)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="comparable-bench-") as tmp:
        folder = keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        seeds_file = folder / "seeds.txt"
        seeds_file.write_text("".join(base + local_path(s) + "\n" for s in seeds))
        db = folder / "corpus.db"
        db.unlink(missing_ok=True)
        code, err = crawl(base, seeds_file, db, endpoint, days)
        if code:
            sys.exit(f"crawl failed ({code}): {err}")
        story, titles, stats = read_back(db, {local_path(r): r for r in records})
    seconds = time.perf_counter() - t0
    server.shutdown()
    server.server_close()
    members: dict[int, set[str]] = defaultdict(set)
    for rid, sid in story.items():
        members[sid].add(rid)
    returned = {records[i]["id"] for entry in log for i in entry["hits"]}
    unwindowed = {records[i]["id"] for entry in log for i in pool.search(entry["query"])}
    rows: dict[str, dict[str, Tally]] = {
        k: defaultdict(Tally) for k in ("ours", "title_top10", "reachable", "reachable_no_window")
    }
    for seed in seeds:
        g = gold[seed["story"]]
        title = seed.get("title") or titles.get(seed["id"]) or seed["text"].split("\n")[0]
        top10 = {records[i]["id"] for i in pool.search(title, *window_of(seed, days), top=10)}
        ours = members.get(story[seed["id"]], set()) if seed["id"] in story else set()
        for part in ("all", half_of(seed)):
            rows["ours"][part].add(g, seed["id"], ours)
            rows["title_top10"][part].add(g, seed["id"], top10)
            rows["reachable"][part].add(g, seed["id"], returned & g)
            rows["reachable_no_window"][part].add(g, seed["id"], unwindowed & g)
    searches = len(log)
    assert all(records[index[s["id"]]] is s for s in seeds)
    return {
        "endpoint": endpoint,
        "seeds": len(seeds),
        "pool": len(records),
        "seconds": round(seconds, 1),
        "search_requests": searches,
        "search_requests_per_seed": round(searches / len(seeds), 2),
        "stats": {k: v for k, v in stats.items() if k.startswith("comparable/")},
        "rows": {
            name: {
                part: t.figures(not name.startswith("reachable"))
                for part, t in sorted(parts.items())
            }
            for name, parts in rows.items()
        },
    }


LABELS = {
    "ours": "ours (the seed's story in the corpus)",
    "title_top10": "title-only query, top 10 as the story",
    "reachable": "what the endpoint returned at all (top 20, windows searched)",
    "reachable_no_window": "the same queries without date windows",
}


def show(result: dict) -> None:
    print(
        f"comparable bench ({result['endpoint']}): {result['seeds']} seeds, pool of"
        f" {result['pool']} articles, {result['search_requests']} search requests"
        f" ({result['search_requests_per_seed']} a seed), {result['seconds']} s"
    )
    print(f"  {'':62s} {'recall':>7s} {'precision':>9s}   odd topics R/P   even topics R/P")
    for name, parts in result["rows"].items():

        def fmt(v: float | None) -> str:
            return "-" if v is None else f"{v:.3f}"

        a, o, e = parts["all"], parts.get("odd", {}), parts.get("even", {})
        print(
            f"  {LABELS[name]:62s} {fmt(a['recall']):>7s} {fmt(a['precision']):>9s}"
            f"   {fmt(o.get('recall'))} / {fmt(o.get('precision'))}"
            f"    {fmt(e.get('recall'))} / {fmt(e.get('precision'))}"
        )
    print("  spider stats:", json.dumps(result["stats"], sort_keys=True))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--bench", type=Path, default=DEFAULT_BENCH)
    ap.add_argument("--endpoint", choices=["gdelt", "rss", "both"], default="gdelt")
    ap.add_argument("--days", type=int, default=3, help="the spider's days argument")
    ap.add_argument("--keep", type=Path, help="keep the seeds file and corpus here")
    ap.add_argument("--json", type=Path, help="write the figures here as JSON")
    args = ap.parse_args(argv)
    if not found(args.bench):
        print(f"stories bench not found in {args.bench}", file=sys.stderr)
        return 2
    results = []
    for endpoint in ("gdelt", "rss") if args.endpoint == "both" else (args.endpoint,):
        keep = args.keep / endpoint if args.keep else None
        results.append(run(args.bench, endpoint, args.days, keep))
        show(results[-1])
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
