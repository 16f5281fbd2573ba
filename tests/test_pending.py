"""The pending batch (crawler.storage.pending): its rows stay consistent, no SQLite."""

from __future__ import annotations

from crawler import features
from crawler.storage.pending import Demotion, Pending

WIRE = (
    "The harbour authority said on Tuesday that the eastern breakwater would close for repairs"
    " after storms damaged its outer wall, and ferries would use the western berth until the"
    " work is finished in the spring, according to a statement read to reporters at the port."
)
OTHER = (
    "Farmers in the valley began the grape harvest two weeks early this year after a hot dry"
    " summer, and the cooperative expects a smaller crop of unusually sweet fruit, its director"
    " told a meeting of growers in the town hall on Saturday morning before the first pickings."
)


def row(url, text=WIRE, published="2024-03-02T09:00:00Z"):
    return {
        "url": url,
        "fetched_url": url,
        "content_hash": f"hash:{text[:20]}",
        "published": published,
        "site": url.split("/")[2],
        "text": text,
    }


def waiting(batch, url, text=WIRE, published="2024-03-02T09:00:00Z"):
    batch.add_article(row(url, text, published), features.compute(None, text))


def sketch(text=WIRE):
    return features.compute(None, text).sketch


def test_a_waiting_article_is_found_by_url_hash_and_fingerprints():
    batch = Pending()
    waiting(batch, "https://a.test/1")
    waiting(batch, "https://b.test/2", OTHER)
    assert len(batch) == 2
    assert batch.by_hash[row("https://a.test/1")["content_hash"]] == "https://a.test/1"
    assert batch.published_of("https://a.test/1") == "2024-03-02T09:00:00Z"
    assert batch.published_of("https://nowhere.test/") is None
    sharing = batch.sharing(sketch())
    assert [url for url, *_ in sharing] == ["https://a.test/1"]
    url, shared, sk, published = sharing[0]
    assert shared == len(sk.fingerprints) and published == "2024-03-02T09:00:00Z"


def test_the_rows_to_write_are_counted_demotions_and_features_are_not():
    batch = Pending()
    waiting(batch, "https://a.test/1")
    batch.add_update({"id": 4, "url": "https://a.test/4"})
    batch.add_duplicate(
        "https://c.test/3", "https://c.test/3", "https://a.test/1", None, "url", 1.0, "c.test", 1
    )
    batch.add_failure({"url": "https://a.test/gone", "stage": "download"})
    batch.add_page({"url": "https://a.test/1", "body": b"<html>"})
    batch.supersede("https://a.test/1", None, 12, 0.9, "near", 1)
    assert len(batch) == 5
    assert batch.has_update(4) and not batch.has_update(12)
    assert batch.demoted() == {12}


def test_a_stored_copy_replaced_by_an_earlier_one_is_demoted():
    batch = Pending()
    batch.supersede("https://a.test/early", None, 12, 0.93, "near", 1)
    assert batch.takes_over == {"https://a.test/early": 12}
    assert batch.demotions == [Demotion(12, "https://a.test/early", 0.93, "near")]
    assert batch.duplicates == {}  # the demotion is written with the batch


def test_a_waiting_copy_replaced_by_an_earlier_one_leaves_every_structure():
    """The replaced copy becomes a duplicate of the earlier one, and whatever
    pointed at it (duplicates, its own demotions, the story it took over) now
    points at the earlier copy."""
    batch = Pending()
    later = "https://a.test/later"
    waiting(batch, later)
    batch.add_page({"url": later, "body": b"<html>"})
    batch.supersede(later, None, 12, 0.9, "near", 1)  # it replaced stored article 12
    batch.add_duplicate(
        "https://a.test/later?x", "https://a.test/later?x", later, None, "url", 1.0, "a.test", 1
    )
    early = "https://b.test/early"
    batch.supersede(early, later, None, 1.0, "exact", 1)
    waiting(batch, early, published="2024-03-01T09:00:00Z")

    assert list(batch.articles) == [early]
    assert list(batch.by_hash.values()) == [early]
    assert list(batch.features) == [early]
    assert list(batch.pages) == [later]  # (a copy keeps its raw page: it may turn out kept)
    assert [url for url, *_ in batch.sharing(sketch())] == [early]
    assert batch.takes_over == {early: 12}
    assert batch.demotions == [Demotion(12, early, 0.9, "near")]
    dup = batch.duplicates[later]
    assert (dup["kept_url"], dup["article_id"], dup["kind"], dup["similarity"]) == (
        early,
        None,
        "exact",
        1.0,
    )
    assert batch.duplicates["https://a.test/later?x"]["kept_url"] == early


def test_undoing_a_replacement_points_the_copies_at_the_earlier_article():
    """An article replaced an exact copy, then turned out a near copy of an
    earlier article: its demotions and taken-over story go, and the copies
    waiting for it point at the earlier article."""
    batch = Pending()
    waiting(batch, "https://a.test/copy")
    url = "https://b.test/new"
    batch.supersede(url, None, 12, 1.0, "exact", 1)
    batch.supersede(url, "https://a.test/copy", None, 1.0, "exact", 1)
    batch.undo_supersede(url, None, 3)
    assert batch.demotions == [] and batch.takes_over == {}
    dup = batch.duplicates["https://a.test/copy"]
    assert (dup["kept_url"], dup["article_id"]) == (None, 3)
    assert batch.articles == {}


def test_clear_forgets_everything():
    batch = Pending()
    waiting(batch, "https://a.test/1")
    batch.add_update({"id": 4})
    batch.add_duplicate(
        "https://c.test/3", "https://c.test/3", "https://a.test/1", None, "url", 1.0, None, 1
    )
    batch.add_failure({"url": "https://a.test/gone"})
    batch.add_page({"url": "https://a.test/1"})
    batch.supersede("https://a.test/1", None, 12, 0.9, "near", 1)
    batch.clear()
    assert len(batch) == 0
    assert batch == Pending()
    assert batch.sharing(sketch()) == []
