from __future__ import annotations

import sqlite3

import pytest

from crawler.items import Failure
from crawler.storage.corpus import Corpus, CorpusError, migrations, open_database
from tests.helpers import article

TEXT = "The river rose two metres overnight and the town council opened three shelters."


def test_schema_matches_the_interface(tmp_path):
    db = open_database(tmp_path / "c.db")
    expected = {
        "articles": {
            "id",
            "url",
            "title",
            "text",
            "author",
            "published",
            "site",
            "language",
            "content_hash",
            "fetched_at",
            "crawl_id",
            "story_id",
        },
        "duplicates": {"url", "article_id", "kind", "similarity", "crawl_id", "seen_at"},
        "failures": {"url", "stage", "reason", "http_status", "crawl_id", "at"},
        "crawls": {"id", "spider", "args", "started_at", "finished_at", "finish_reason", "stats"},
        "stories": {"id", "title", "first_published", "article_count"},
    }
    for table, columns in expected.items():
        assert columns <= set(db[table].columns_dict), table
    assert db["articles"].detect_fts() == "articles_fts"
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert not migrations.pending(db)


def test_store_known_updated_and_exact_duplicate(tmp_path):
    corpus = Corpus(tmp_path / "c.db", batch_size=100)
    corpus.start_crawl("files", {"path": "x"})
    assert corpus.add_article(article("https://a.test/1", TEXT)).status == "stored"
    # Same URL again in the same crawl: known, not stored twice.
    assert corpus.add_article(article("https://a.test/1", TEXT)).status == "known"
    # Same text under another URL, before the first was flushed: exact duplicate.
    dup = corpus.add_article(article("https://b.test/copy", TEXT.upper()))
    assert (dup.status, dup.kind) == ("duplicate", "exact")
    corpus.add_failure(Failure("https://a.test/2", "download", "the server answered HTTP 404", 404))
    corpus.finish_crawl("finished", {"x": 1})
    db = corpus.db
    assert db["articles"].count == 1
    kept = db.execute("select id from articles").fetchone()[0]
    assert list(db.query("select url, article_id, kind, similarity from duplicates")) == [
        {"url": "https://b.test/copy", "article_id": kept, "kind": "exact", "similarity": 1.0}
    ]
    assert db["failures"].count == 1
    corpus.close()

    # A second crawl: the stored URL is known, a changed text is an update.
    corpus = Corpus(tmp_path / "c.db")
    corpus.start_crawl("files", {})
    assert corpus.add_article(article("https://a.test/1", TEXT)).status == "known"
    assert corpus.add_article(article("https://b.test/copy", TEXT)).status == "known"
    changed = TEXT + " Officials expect the water to fall by Friday."
    assert corpus.add_article(article("https://a.test/1", changed)).status == "updated"
    corpus.close()
    db = open_database(tmp_path / "c.db")
    assert db["articles"].count == 1
    row = next(db.query("select text, updated_at from articles"))
    assert row["text"] == changed and row["updated_at"]
    # The FTS index follows the update (triggers, not replace).
    hits = list(db.query("select rowid from articles_fts where articles_fts match 'Friday'"))
    assert len(hits) == 1


def test_writes_are_batched(tmp_path):
    corpus = Corpus(tmp_path / "c.db", batch_size=3)
    corpus.start_crawl("files", {})
    for i in range(2):
        corpus.add_article(article(f"https://a.test/{i}", f"{TEXT} Story number {i}."))
    other = sqlite3.connect(tmp_path / "c.db")
    assert other.execute("select count(*) from articles").fetchone()[0] == 0
    corpus.add_article(article("https://a.test/2", f"{TEXT} Story number 2."))
    assert other.execute("select count(*) from articles").fetchone()[0] == 3
    corpus.close()


def test_every_article_gets_a_story(tmp_path):
    corpus = Corpus(tmp_path / "c.db")
    corpus.start_crawl("files", {})
    corpus.add_article(article("https://a.test/1", TEXT, published="2024-05-01T10:00:00Z"))
    corpus.close()
    db = open_database(tmp_path / "c.db")
    row = next(
        db.query(
            "select s.title, s.first_published, s.article_count from articles a"
            " join stories s on s.id = a.story_id"
        )
    )
    assert row == {
        "title": "A headline",
        "first_published": "2024-05-01T10:00:00Z",
        "article_count": 1,
    }


def test_unusable_paths_are_clear_errors(tmp_path):
    with pytest.raises(CorpusError, match="does not exist"):
        open_database(tmp_path / "missing" / "c.db")
    with pytest.raises(CorpusError, match="directory"):
        open_database(tmp_path)
    bad = tmp_path / "not-a-db.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(CorpusError, match="cannot open"):
        open_database(bad)


def test_one_failure_row_per_url_and_it_leaves_when_the_url_succeeds(tmp_path):
    corpus = Corpus(tmp_path / "c.db")
    corpus.start_crawl("urls", {})
    corpus.add_failure(Failure("https://a.test/flaky", "download", "timed out", None))
    corpus.add_failure(
        Failure("https://a.test/gone", "download", "the server answered HTTP 410", 410)
    )
    corpus.finish_crawl("finished", {})
    assert not corpus.is_known_url("https://a.test/flaky")  # transient: worth another try
    assert corpus.is_known_url("https://a.test/gone")  # permanent
    corpus.start_crawl("urls", {})
    corpus.add_failure(
        Failure("https://a.test/flaky", "download", "the server answered HTTP 503", 503)
    )
    corpus.finish_crawl("finished", {})
    rows = list(
        corpus.db.query("select url, reason, attempts, crawl_id from failures order by url")
    )
    assert [(r["url"], r["attempts"], r["crawl_id"]) for r in rows] == [
        ("https://a.test/flaky", 2, 2),
        ("https://a.test/gone", 1, 1),
    ]
    assert "503" in rows[0]["reason"]
    # Third time lucky: the URL becomes an article and leaves the failures table.
    corpus.start_crawl("urls", {})
    corpus.add_article(article("https://a.test/flaky", TEXT))
    corpus.finish_crawl("finished", {})
    assert [r["url"] for r in corpus.db.query("select url from failures")] == [
        "https://a.test/gone"
    ]
    corpus.close()


def test_host_range_takes_in_ports_but_not_longer_hosts(tmp_path):
    from crawler.storage.corpus import HOST_RANGE, host_range, open_database

    db = open_database(tmp_path / "h.db")
    urls = [
        "http://127.0.0.1/a",
        "http://127.0.0.1:8080/b",
        "https://127.0.0.1:443/c",
        "http://127.0.0.10/d",
        "http://127.0.0.1.example/e",
        "https://127.0.0.1/f",
    ]
    db.execute("CREATE TABLE t_urls (url TEXT PRIMARY KEY)")
    db.conn.executemany("INSERT INTO t_urls (url) VALUES (?)", [(u,) for u in urls])
    found = [
        r[0]
        for r in db.execute(
            f"SELECT url FROM t_urls WHERE {HOST_RANGE} ORDER BY url", host_range("127.0.0.1")
        )
    ]
    assert found == [
        "http://127.0.0.1/a",
        "http://127.0.0.1:8080/b",
        "https://127.0.0.1/f",
        "https://127.0.0.1:443/c",
    ]
