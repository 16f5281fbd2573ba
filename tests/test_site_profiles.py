"""Site profiles: chrome learnt from several pages of one template, applied to
later pages of the site and, through ``scrapy reclean``, to earlier ones."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import FIXTURES, crawl, crawl_stats, run_scrapy

pytestmark = pytest.mark.e2e

SITE = FIXTURES / "site-profile"
STANDING = "The Valley Post is an independent, reader-funded newsroom"
PITCH = "Our reporting stays free to read because hundreds of local readers chip in"
PAGES = sorted(SITE.glob("*.html"))


def texts(result):
    return {r["url"].rsplit("/", 1)[1]: r["text"] for r in result.rows("select url, text from articles")}


def test_learnt_profile_removes_standing_lines_from_later_and_earlier_pages(tmp_path):
    first, later = tmp_path / "first", tmp_path / "later"
    first.mkdir()
    later.mkdir()
    for page in PAGES[:4]:
        shutil.copy(page, first / page.name)
    shutil.copy(PAGES[4], later / PAGES[4].name)
    db = tmp_path / "corpus.db"

    one = crawl("files", db, path=str(first))
    assert one.returncode == 0
    before = texts(one)
    assert len(before) == 4
    # The generic cleaner keeps these lines: they read like prose.
    assert all(STANDING in t and PITCH in t for t in before.values())
    assert crawl_stats(one)["corpus/site_profile_lines"] >= 2
    profile = one.rows("select host, pages, lines from site_profiles")
    assert [(p["host"], p["pages"]) for p in profile] == [("www.valleypost.test", 4)]

    two = crawl("files", db, path=str(later))
    assert two.returncode == 0
    new = texts(two)[PAGES[4].stem]
    assert STANDING not in new and PITCH not in new
    assert new.startswith("Hollins primary school will get a new roof this summer")
    assert new.endswith("from the national programme next year.")

    dry = run_scrapy("reclean", "--db", str(db), "--dry-run")
    assert dry.returncode == 0 and "[dry run] re-cleaned 5 stored pages: 4 texts changed" in dry.stdout
    assert texts(two)[PAGES[0].stem] == before[PAGES[0].stem]  # a dry run changes nothing

    proc = run_scrapy("reclean", "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    assert "re-cleaned 5 stored pages: 4 texts changed, 1 unchanged" in proc.stdout
    after = texts(two)
    for name, text in after.items():
        assert STANDING not in text and PITCH not in text, name
    # Real paragraphs all stay: only the two standing lines went.
    for name, text in before.items():
        assert after[name].split("\n") == text.split("\n")[:-2]
    # The full-text index follows the update.
    hits = two.rows("select count(*) n from articles_fts where articles_fts match '\"reader-funded newsroom\"'")
    assert hits[0]["n"] == 0


def test_profiles_can_be_turned_off(tmp_path):
    db = tmp_path / "corpus.db"
    result = crawl("files", db, path=str(SITE), settings={"CLEAN_SITE_PROFILES": False})
    assert result.returncode == 0
    assert result.rows("select count(*) n from site_profiles")[0]["n"] == 0
    assert all(STANDING in t for t in texts(result).values())


def test_raw_pages_are_kept_compressed_unless_turned_off(tmp_path):
    kept = crawl("files", tmp_path / "a.db", path=str(SITE))
    rows = kept.rows("select length(body) n, fetched_url from pages")
    assert len(rows) == 5
    assert all(0 < r["n"] < (SITE / r["fetched_url"].rsplit("/", 1)[1]).stat().st_size for r in rows)
    off = crawl("files", tmp_path / "b.db", path=str(SITE), settings={"CORPUS_KEEP_RAW": False})
    assert off.rows("select count(*) n from pages")[0]["n"] == 0
    proc = run_scrapy("reclean", "--db", str(tmp_path / "b.db"))
    assert proc.returncode == 0 and "re-cleaned 0 stored pages" in proc.stdout


def test_reclean_reads_the_corpus_in_chunks(tmp_path):
    from crawler.processing import Options
    from crawler.reclean import reclean

    db = tmp_path / "corpus.db"
    assert crawl("files", db, path=str(FIXTURES)).returncode == 0
    import sqlite3

    with_pages = sqlite3.connect(db).execute("select count(*) from pages").fetchone()[0]
    assert with_pages > 5
    report = reclean(db, Options(), chunk=2, dry_run=True)
    assert report.pages == with_pages  # every chunk was read, none twice
    one_site = reclean(db, Options(), chunk=2, site="www.valleypost.test", dry_run=True)
    assert one_site.pages == 5
