"""An earlier-published copy that arrives late replaces the kept article
("demotion"). These are the orders in which that meets other pending work in
one batch: each must write, and leave every table consistent."""

from __future__ import annotations

import sqlite3

import pytest

from tests.helpers import writer_crawl
from tests.test_neardup import OTHER, WIRE, art


def broken(path) -> list[tuple[str, list]]:
    """The consistency rules a corpus must keep, and the rows that break them."""
    db = sqlite3.connect(path)
    rules = {
        "duplicate of a missing article": "SELECT url FROM duplicates WHERE article_id IS NOT NULL"
        " AND article_id NOT IN (SELECT id FROM articles)",
        "duplicate of no article": "SELECT url FROM duplicates WHERE article_id IS NULL",
        "both an article and a duplicate": "SELECT d.url FROM duplicates d JOIN articles a"
        " ON a.url = d.url",
        "version of a missing article": "SELECT id FROM versions WHERE article_id NOT IN"
        " (SELECT id FROM articles)",
        "story count": "SELECT id FROM stories s WHERE article_count !="
        " (SELECT count(*) FROM articles a WHERE a.story_id = s.id)",
        "foreign keys": "PRAGMA foreign_key_check",
    }
    out = [(name, rows) for name, sql in rules.items() if (rows := db.execute(sql).fetchall())]
    db.close()
    return out


def rows(path, sql: str) -> list[tuple]:
    db = sqlite3.connect(path)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


@pytest.mark.parametrize("copy", [WIRE, WIRE + " Photo: agency."], ids=["exact", "near"])
def test_a_copy_waiting_in_the_batch_follows_the_article_it_copies_to_its_replacement(
    tmp_path, copy
):
    path = tmp_path / "c.db"
    writer_crawl(path, art("https://a.test/1", WIRE, "2024-05-02T09:00:00Z"))
    later, earlier = writer_crawl(
        path,
        art("https://d.test/1", copy, "2024-05-03T09:00:00Z"),
        art("https://b.test/1", "Updated. " + WIRE, "2024-05-01T09:00:00Z"),
    )
    assert (later.status, earlier.status) == ("duplicate", "stored")
    assert broken(path) == []
    kept = rows(path, "SELECT id, url FROM articles")
    assert [u for _, u in kept] == ["https://b.test/1"]
    assert sorted(rows(path, "SELECT url, article_id FROM duplicates")) == [
        ("https://a.test/1", kept[0][0]),
        ("https://d.test/1", kept[0][0]),
    ]


@pytest.mark.parametrize("variant_first", [True, False])
def test_another_address_of_a_replaced_article_points_at_its_replacement(tmp_path, variant_first):
    path = tmp_path / "c.db"
    writer_crawl(path, art("https://a.test/1", WIRE, "2024-05-02T09:00:00Z"))
    variant = art("https://a.test/1", WIRE, "2024-05-02T09:00:00Z")
    variant.fetched_url = "https://a.test/1?utm_source=feed"
    earlier = art("https://b.test/1", "Updated. " + WIRE, "2024-05-01T09:00:00Z")
    writer_crawl(path, *((variant, earlier) if variant_first else (earlier, variant)))
    assert broken(path) == []
    kept = rows(path, "SELECT id FROM articles WHERE url = 'https://b.test/1'")[0][0]
    assert rows(path, "SELECT article_id, kind FROM duplicates WHERE url LIKE '%utm_source%'") == [
        (kept, "url")
    ]


def test_an_address_that_is_an_article_waiting_in_the_batch_is_no_variant(tmp_path):
    path = tmp_path / "c.db"
    first = art("https://a.test/1", WIRE)
    again = art("https://a.test/1", WIRE)
    again.fetched_url = "https://a.test/2"  # (a redirect, say)
    writer_crawl(path, first, art("https://a.test/2", OTHER), again)
    assert broken(path) == []
    assert sorted(u for (u,) in rows(path, "SELECT url FROM articles")) == [
        "https://a.test/1",
        "https://a.test/2",
    ]


def test_an_exact_copy_that_is_itself_a_near_copy_of_an_earlier_article(tmp_path):
    """An earlier exact copy of A would replace A, but is a near copy of X (no
    date, so not later): it is X's duplicate, A stays, and A's update in the
    same batch is written."""
    path = tmp_path / "c.db"
    writer_crawl(
        path,
        art("https://a.test/1", WIRE, "2024-05-03T09:00:00Z"),
        art("https://x.test/1", OTHER, None),
    )
    # X now carries the wire
    writer_crawl(path, art("https://x.test/1", WIRE + " Photo: agency.", None))
    copy, again, update = writer_crawl(
        path,
        art("https://e.test/1", WIRE, "2024-05-01T09:00:00Z"),
        art("https://f.test/1", WIRE, "2024-05-04T09:00:00Z"),  # a later exact copy of A
        art(
            "https://a.test/1",
            WIRE + " This story was corrected on Friday.",
            "2024-05-03T09:00:00Z",
        ),
    )
    assert (copy.status, copy.kind, update.status) == ("duplicate", "near", "updated")
    a = rows(path, "SELECT id FROM articles WHERE url = 'https://a.test/1'")[0][0]
    assert (again.status, again.kind, again.article_id) == ("duplicate", "exact", a)
    assert broken(path) == []
    assert rows(
        path,
        "SELECT text LIKE '%corrected on Friday.' FROM articles WHERE url = 'https://a.test/1'",
    ) == [(1,)]
    x = rows(path, "SELECT id FROM articles WHERE url = 'https://x.test/1'")[0][0]
    assert rows(path, "SELECT url, article_id FROM duplicates ORDER BY url") == [
        ("https://e.test/1", x),
        ("https://f.test/1", a),
    ]
