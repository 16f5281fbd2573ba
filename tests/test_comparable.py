"""The ``comparable`` spider against local search endpoints (GDELT JSON and RSS)."""

from __future__ import annotations

import html
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from crawler.listings import search as query
from tests.helpers import SEEDS, crawl_stats, run_scrapy, scrapy_crawl

SEED = SEEDS / "000_105da86cbff68d84.txt"
OTHER_TAKE = (SEEDS / "004_34f1da6f3df793cf.txt").read_text(encoding="utf-8")
FLOOD = (
    "The river rose two metres overnight and the town council opened three shelters for the "
    "families of the lower streets. Firefighters pumped water out of the old mill until dawn, "
    "and the school on the hill stayed closed. The weather service expects more rain on "
    "Thursday and asked people to keep away from the banks until the water falls again."
)


def article_page(title: str, text: str, site: str, published: str) -> bytes:
    paras = "".join(f"<p>{html.escape(p)}</p>" for p in text.split("\n") if p.strip())
    return (
        f"<html><head><title>{html.escape(title)}</title>"
        f'<meta property="og:site_name" content="{site}">'
        f'<meta property="article:published_time" content="{published}"></head>'
        f"<body><article><h1>{html.escape(title)}</h1>{paras}</article></body></html>"
    ).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    log: list[str] = []

    def log_message(self, *args):
        pass

    def send(self, status, body=b"", ctype="text/html; charset=utf-8", extra=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        Handler.log.append(self.path)
        base = f"http://127.0.0.1:{self.server.server_port}"
        parts = urlsplit(self.path)
        if parts.path == "/robots.txt":
            return self.send(404, b"", "text/plain")
        if parts.path == "/gdelt":
            body = {
                "articles": [
                    {
                        "url": f"{base}/news/other-take.html",
                        "title": "US concerned by Russia-Iran ties",
                        "seendate": "20221209T120000Z",
                        "domain": "127.0.0.1",
                        "language": "English",
                        "sourcecountry": "United States",
                    },
                    {
                        "url": f"{base}/go/flood",
                        "title": "Flood",
                        "seendate": "20221209T130000Z",
                        "domain": "127.0.0.1",
                    },
                ]
            }
            return self.send(200, json.dumps(body).encode(), "application/json")
        if parts.path == "/rss":
            items = "".join(
                f"<item><title>{t}</title><link>{base}{p}</link>"
                "<pubDate>Fri, 09 Dec 2022 12:00:00 GMT</pubDate></item>"
                for t, p in (("Other take", "/news/other-take.html"), ("Gone", "/news/gone.html"))
            )
            body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Search</title>{items}</channel></rss>'
            return self.send(200, body.encode(), "application/rss+xml")
        if parts.path == "/news/other-take.html":
            title, _, text = OTHER_TAKE.partition("\n")
            return self.send(
                200,
                article_page(
                    "US voices concern over Russia-Iran alliance",
                    OTHER_TAKE,
                    "Other Outlet",
                    "2022-12-09T10:00:00Z",
                ),
            )
        if parts.path == "/go/flood":
            return self.send(302, b"", extra={"Location": f"{base}/news/flood.html"})
        if parts.path == "/news/flood.html":
            return self.send(
                200,
                article_page("River floods the town", FLOOD, "Local Paper", "2022-12-09T08:00:00Z"),
            )
        return self.send(404, b"not found")


@pytest.fixture
def server():
    Handler.log = []
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()
    srv.server_close()


def test_query_from_a_seed_has_names_and_terms():
    title, _, text = SEED.read_text(encoding="utf-8").partition("\n")
    q = query.search_query(title, text)
    assert q.names and q.terms
    assert "Iran" in q.text() or "Russia" in q.text()


def test_gdelt_and_rss_answers_are_read():
    kind, entries = query.parse_results(
        json.dumps(
            {
                "articles": [
                    {
                        "url": "https://a.example/x",
                        "title": "X",
                        "seendate": "20240101T120000Z",
                        "domain": "a.example",
                    }
                ]
            }
        ).encode(),
        "https://api.example/",
    )
    assert kind == "gdelt" and entries[0].published.startswith("2024-01-01T12:00:00")
    assert query.parse_results(b"{}", "https://api.example/") == ("gdelt", [])
    with pytest.raises(query.QueryError, match="answered"):
        query.parse_results(b"Your search contained a phrase that was too short", "https://x/")


@pytest.mark.e2e
def test_comparable_finds_coverage_and_grouping_decides(server, db_path):
    search = f"{server}/gdelt?query={{query}}&mode=ArtList&format=json&startdatetime={{start}}&enddatetime={{end}},{server}/rss?q={{query}}+after:{{start_date}}"
    result = scrapy_crawl(
        "comparable",
        db_path,
        settings={"ALLOW_PRIVATE_NETWORKS": True, "AUTOTHROTTLE_ENABLED": False},
        seed=str(SEED),
        search=search,
        days="3",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    searched = [p for p in Handler.log if p.startswith(("/gdelt", "/rss"))]
    # one search a template, then one refined search: the first answers brought few hits
    assert len(searched) == 3
    gdelt = parse_qs(urlsplit(next(p for p in searched if p.startswith("/gdelt"))).query)
    assert gdelt["query"][0].strip()
    # the seed states no date: searched without a window, never around a guessed day
    assert "startdatetime" not in gdelt and "enddatetime" not in gdelt
    rows = {
        r["site"]: r for r in result.rows("select id, site, story_id, fetched_url from articles")
    }
    assert set(rows) == {"Other Outlet", "Local Paper"} | {
        r for r in rows if r not in ("Other Outlet", "Local Paper")
    }
    assert len(rows) == 3
    seed = next(r for s, r in rows.items() if s not in ("Other Outlet", "Local Paper"))
    assert rows["Other Outlet"]["story_id"] == seed["story_id"]
    assert rows["Local Paper"]["story_id"] != seed["story_id"]
    assert rows["Local Paper"]["fetched_url"].endswith("/news/flood.html")  # redirect resolved
    fails = result.rows("select url, stage, http_status from failures")
    assert [(f["stage"], f["http_status"]) for f in fails] == [("download", 404)]
    assert fails[0]["url"].endswith("/news/gone.html")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give the seed"),
        (["-a", "seed=/no/such/file.txt"], "neither a file"),
        (["-a", f"seed={SEED}", "-a", "search=https://x.example/search"], "no {query}"),
        (["-a", f"seed={SEED}", "-a", "days=many"], "whole number"),
    ],
)
@pytest.mark.e2e
def test_bad_arguments_are_one_line(args, message):
    proc = run_scrapy("crawl", "comparable", *args)
    assert proc.returncode != 0
    assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


class SeedsHandler(Handler):
    """A dated seed page, a search that also returns the seed and finds little."""

    def do_GET(self):
        Handler.log.append(self.path)
        base = f"http://127.0.0.1:{self.server.server_port}"
        parts = urlsplit(self.path)
        if parts.path == "/news/seed.html":
            return self.send(
                200,
                article_page("River floods the town", FLOOD, "Seed Paper", "2022-12-09T08:00:00Z"),
            )
        if parts.path == "/gdelt":
            arts = [
                {"url": f"{base}/news/seed.html", "title": "River floods the town"},
                {"url": f"{base}/news/other-take.html", "title": "Russia Iran ties"},
                {"url": "ftp://example.invalid/x", "title": "Not followable"},
            ]
            return self.send(200, json.dumps({"articles": arts}).encode(), "application/json")
        return super().do_GET()


@pytest.mark.e2e
def test_seeds_file_dated_window_seed_not_refetched_and_refined_search(tmp_path, db_path):
    Handler.log = []
    srv = ThreadingHTTPServer(("127.0.0.1", 0), SeedsHandler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{srv.server_port}"
    seeds = tmp_path / "seeds.txt"
    seeds.write_text(f"# two seeds\n{base}/news/seed.html\n\n{SEED}\n")
    try:
        result = scrapy_crawl(
            "comparable",
            db_path,
            settings={"ALLOW_PRIVATE_NETWORKS": True, "AUTOTHROTTLE_ENABLED": False},
            seeds=str(seeds),
            search=f"{base}/gdelt?query={{query}}&startdatetime={{start}}&enddatetime={{end}}",
        )
    finally:
        srv.shutdown()
        srv.server_close()
    assert result.returncode == 0, result.stderr[-3000:]
    stats = crawl_stats(result)
    # both seeds' searches found the other take: requested once (the server may see a
    # GET twice when Twisted retries it on a closed keep-alive connection)
    assert stats["downloader/request_count"] == 7  # robots, seed, 4 searches, other take
    searches = [parse_qs(urlsplit(p).query) for p in Handler.log if p.startswith("/gdelt")]
    # each seed: a first search and, as it found little, one refined search
    assert len(searches) == 4
    dated = [s for s in searches if "startdatetime" in s]
    assert len(dated) == 2 and {s["startdatetime"][0] for s in dated} == {"20221206080000"}
    assert stats["comparable/seeds"] == 2 and stats["comparable/refined_searches"] == 2
    hits = stats["comparable/hits"]
    ends = ("requested", "seed_itself", "already_requested", "known", "not_followable")
    assert hits == sum(stats.get(f"comparable/hits/{k}", 0) for k in ends) == 12
    assert stats["comparable/hits/seed_itself"] == 2 and stats["comparable/hits/requested"] == 1
    sites = {r["site"] for r in result.rows("select site from articles")}
    assert {"Seed Paper", "Other Outlet"} <= sites


class ManyHitsHandler(Handler):
    """A search that answers six new (gone) articles whatever the query."""

    def do_GET(self):
        base = f"http://127.0.0.1:{self.server.server_port}"
        if urlsplit(self.path).path == "/gdelt":
            Handler.log.append(self.path)
            arts = [{"url": f"{base}/news/gone-{n}.html", "title": f"Take {n}"} for n in range(6)]
            return self.send(200, json.dumps({"articles": arts}).encode(), "application/json")
        return super().do_GET()


@pytest.mark.e2e
def test_a_first_search_that_found_enough_is_followed_by_a_complementary_one(db_path):
    Handler.log = []
    srv = ThreadingHTTPServer(("127.0.0.1", 0), ManyHitsHandler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{srv.server_port}"
    try:
        result = scrapy_crawl(
            "comparable",
            db_path,
            settings={"ALLOW_PRIVATE_NETWORKS": True, "AUTOTHROTTLE_ENABLED": False},
            seed=str(SEED),
            search=f"{base}/gdelt?query={{query}}",
        )
    finally:
        srv.shutdown()
        srv.server_close()
    assert result.returncode == 0, result.stderr[-3000:]
    stats = crawl_stats(result)
    searched = [p for p in Handler.log if p.startswith("/gdelt")]
    first, second = (parse_qs(urlsplit(p).query)["query"][0] for p in searched)
    assert first != second and first.split('" ')[0] == second.split('" ')[0]  # the same first name
    assert stats["comparable/second_searches"] == 1 and "comparable/refined_searches" not in stats
    # the second answer's hits were requested by the first: each hit is counted once
    assert (
        stats["comparable/hits/requested"] == 6 and stats["comparable/hits/already_requested"] == 6
    )
    assert len(result.rows("select url from failures where stage = 'download'")) == 6
