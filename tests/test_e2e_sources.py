"""``scrapy crawl sources``: named sources from sources.toml, incremental runs."""

from __future__ import annotations

import pytest

from tests.helpers import crawl_stats, run_scrapy, scrapy_crawl
from tests.webserver import SiteServer

pytestmark = pytest.mark.e2e

WEB = {"ALLOW_PRIVATE_NETWORKS": True, "AUTOTHROTTLE_ENABLED": False}
MUSEUM = "/2024/05/12/museum-reopens-after-renovation.html"
HARBOUR = "/2024/05/14/harbour-flood-defences-approved.html"
OLD = "/news/old-archive-story.html"


def config(base: str) -> str:
    return f"""
[defaults]
concurrency = 2

[sources.gazette-feeds]
feeds = ["{base}/feeds/world.xml", "{base}/feeds/main"]
since = "2024-01-01"
download_delay = 0.05
# Per-source cleaning rule: drop the museum article's third paragraph.
prune = ["//div[@class='body']/p[3]"]

[sources.gazette-sitemaps]
sitemaps = ["{base}/robots.txt"]

[sources.gazette-site]
start = ["{base}/"]
depth = 1

[sources.parked]
enabled = false
start = ["{base}/world/"]
"""


@pytest.fixture(scope="module")
def server():
    with SiteServer() as srv:
        yield srv


@pytest.fixture(scope="module")
def setup(server, tmp_path_factory):
    folder = tmp_path_factory.mktemp("sources")
    path = folder / "sources.toml"
    path.write_text(config(server.base))
    return folder, path


def run(server, db, cfg, **args):
    before = len(server.log)
    result = scrapy_crawl("sources", db, settings=WEB, config=str(cfg), **args)
    assert result.returncode == 0, result.stderr[-3000:]
    return result, [e.path for e in server.log[before:]]


def test_one_source_alone_then_all_then_nothing_new(server, setup):
    folder, cfg = setup
    db = folder / "corpus.db"

    only, paths = run(server, db, cfg, only="gazette-feeds")
    assert "/feeds/world.xml" in paths and "/feeds/main" in paths
    assert not any(p.startswith("/sitemaps/") for p in paths)
    assert OLD not in paths  # older than the source's since: never requested
    museum = only.rows("select text from articles where url like ?", [f"%{MUSEUM}"])
    assert museum, "the museum article from the JSON feed is stored"
    assert "maritime museum on the western pier" in museum[0]["text"]
    assert "restored nineteenth-century pilot boat" not in museum[0]["text"]  # pruned by the rule
    first = only.rows("select count(*) n from articles")[0]["n"]

    everything, paths = run(server, db, cfg)
    assert any(p.startswith("/sitemaps/") for p in paths) and "/" in paths
    total = everything.rows("select count(*) n from articles")[0]["n"]
    assert total > first
    stats = crawl_stats(everything)
    assert stats["finish_reason"] == "finished"
    # Feed articles stored by the first run were not downloaded again.
    assert HARBOUR not in paths

    again, paths = run(server, db, cfg)
    assert again.rows("select count(*) n from articles")[0]["n"] == total
    assert (
        again.rows("select count(*) n from duplicates")[0]["n"]
        == everything.rows("select count(*) n from duplicates")[0]["n"]
    )
    articles = {r["url"].split("/", 3)[-1] for r in again.rows("select url from articles")}
    refetched = [p for p in paths if p.lstrip("/") in articles]
    assert refetched == [], f"known articles downloaded again: {refetched}"
    stats = crawl_stats(again)
    assert "corpus/articles/stored" not in stats
    assert stats.get("sources/gazette-feeds/since_last_crawl")


def test_parked_source_runs_when_named(server, setup, tmp_path):
    _, cfg = setup
    result, paths = run(server, tmp_path / "c.db", cfg, only="parked")
    assert paths and paths[0] in ("/robots.txt", "/world/")
    assert "/world/" in paths
    assert not any(p.startswith("/feeds/") for p in paths)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-a", "config=/no/such/sources.toml"], "does not exist"),
        (["-a", "only=nope"], "no source named 'nope'"),
    ],
)
def test_bad_arguments_are_one_line(setup, args, message):
    _, cfg = setup
    if not any(a.startswith("config=") for a in args):
        args = ["-a", f"config={cfg}", *args]
    proc = run_scrapy("crawl", "sources", *args)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], proc.stderr
