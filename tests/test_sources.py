from pathlib import Path

import pytest

from crawler.listings.sources import SourcesError, load_sources, parse_sources

ROOT = Path(__file__).resolve().parent.parent


def test_the_shipped_example_loads():
    sources = load_sources(ROOT / "sources.toml")
    assert [s.name for s in sources] == ["example-herald", "example-gazette"]
    herald, gazette = sources
    assert herald.download_delay == 1.0 and herald.concurrency == 2 and herald.since == "2026-01-01"
    assert gazette.download_delay == 2.0 and gazette.depth == 1
    assert gazette.site_rules() == {
        "gazette.example.org": {
            "prune": [".newsletter-signup", "//aside[contains(@class, 'related')]"],
            "body": "div.article-body",
        }
    }
    assert herald.site_rules() == {}
    # A disabled source runs when named.
    [wire] = load_sources(ROOT / "sources.toml", only=["example-wire"])
    assert wire.sitemaps == ["https://wire.example.net/robots.txt"]


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[sources.a]\nfeeds = ['ftp://x.test/rss']", r"not an http\(s\) URL"),
        ("[sources.a]\nfeed = ['https://x.test/rss']", "unknown key 'feed'"),
        ("[sources.a]\ndepth = 1", "at least one of feeds, sitemaps or start"),
        ("[sources.a]\nstart = ['https://x.test/']\ndepth = 99", "0 to 10"),
        ("[sources.a]\nstart = ['https://x.test/']\ndownload_delay = -1", "0 or more"),
        ("[sources.a]\nstart = ['https://x.test/']\nsince = 'yesterday'", "YYYY-MM-DD"),
        ("[sources.'a b']\nstart = ['https://x.test/']", "source name"),
        ("[source.a]\nstart = ['https://x.test/']", "unknown top-level table 'source'"),
        (
            "[defaults]\nfeeds = ['https://x.test/rss']\n[sources.a]\nstart = ['https://x.test/']",
            "per-source-only key 'feeds'",
        ),
        ("not toml at all [", "not valid TOML"),
        ("", "no sources"),
    ],
)
def test_mistakes_are_one_line_reasons(toml, message):
    with pytest.raises(SourcesError, match=message):
        parse_sources(toml)


def test_only_names_must_exist(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text("[sources.a]\nstart = ['https://x.test/']\n")
    with pytest.raises(SourcesError, match="no source named 'b'"):
        load_sources(path, only=["b"])
    with pytest.raises(SourcesError, match="does not exist"):
        load_sources(tmp_path / "missing.toml")
