from __future__ import annotations

from crawler.dedup import near as neardup
from crawler.items import Article
from crawler.storage import nearindex
from crawler.storage.corpus import Corpus
from tests.helpers import article, writer_crawl

WIRE = (
    "The national weather service issued a flood warning for the river valley on Monday after "
    "three days of heavy rain. Officials opened four shelters in the town hall, two schools and "
    "the sports centre, and asked residents of the lower streets to leave before nightfall. The "
    "river is expected to peak on Wednesday at almost two metres above its usual level, the "
    "highest since the spring of 2013, the agency said in a statement."
)
OTHER = (
    "The city council approved the budget for next year on Tuesday evening after a long debate "
    "about the price of public transport, the new library and the repairs to the old bridge that "
    "has been closed to heavy lorries since the summer, and the mayor thanked the committee."
)


def art(url: str, text: str, published: str | None = None) -> Article:
    return article(url, text, published, title="Flood warning", site=url.split("/")[2])


def test_sketch_is_deterministic_and_winnowing_keeps_a_fraction():
    a, b = neardup.sketch(WIRE), neardup.sketch(WIRE)
    assert a == b
    assert 0 < len(a.fingerprints) < a.size


def test_an_embedded_copy_is_found_by_containment():
    longer = OTHER + "\n" + WIRE.replace("Monday", "Monday morning") + "\n" + OTHER[::-1]
    sim = neardup.near_duplicate(neardup.sketch(WIRE), neardup.sketch(longer))
    assert sim is not None and sim >= 0.8
    assert neardup.near_duplicate(neardup.sketch(WIRE), neardup.sketch(OTHER)) is None


def test_a_too_short_text_is_never_a_near_duplicate():
    short = "Flood warning issued for the valley."
    assert neardup.near_duplicate(neardup.sketch(short), neardup.sketch(short)) is None


def test_near_copy_against_the_stored_corpus_and_in_the_same_batch(tmp_path):
    corpus = Corpus(tmp_path / "c.db", batch_size=100)
    corpus.start_crawl("files", {})
    assert corpus.add_article(art("https://a.test/1", WIRE)).status == "stored"
    edited = WIRE.replace("four shelters", "five shelters") + " More updates will follow."
    same_batch = corpus.add_article(art("https://b.test/1", edited))
    assert (same_batch.status, same_batch.kind) == ("duplicate", "near")
    corpus.close()
    corpus = Corpus(tmp_path / "c.db")
    corpus.start_crawl("files", {})
    later = corpus.add_article(art("https://c.test/1", "Reporting by our staff. " + WIRE))
    assert (later.status, later.kind) == ("duplicate", "near") and later.article_id == 1
    corpus.close()
    rows = list(
        corpus.db.__class__(tmp_path / "c.db").query(
            "select url, article_id, kind, similarity from duplicates order by id"
        )
    )
    assert [r["url"] for r in rows] == ["https://b.test/1", "https://c.test/1"]
    assert all(
        r["article_id"] == 1 and r["kind"] == "near" and r["similarity"] >= 0.8 for r in rows
    )


def test_an_earlier_published_copy_becomes_the_kept_article(tmp_path):
    import sqlite_utils

    # stored in an earlier crawl, published later
    corpus = Corpus(tmp_path / "c.db")
    corpus.start_crawl("files", {})
    corpus.add_article(art("https://late.test/1", WIRE, "2024-05-02T09:00:00Z"))
    corpus.close()
    corpus = Corpus(tmp_path / "c.db")
    corpus.start_crawl("files", {})
    first = corpus.add_article(
        art("https://early.test/1", WIRE + " Photo: agency.", "2024-05-01T18:00:00Z")
    )
    assert first.status == "stored"
    # pending in the same batch: an even earlier one replaces it
    earliest = corpus.add_article(
        art("https://earliest.test/1", "Updated. " + WIRE, "2024-05-01T08:00:00Z")
    )
    assert earliest.status == "stored"
    corpus.close()
    db = sqlite_utils.Database(tmp_path / "c.db")
    assert [r["url"] for r in db.query("select url from articles")] == ["https://earliest.test/1"]
    kept = next(db.query("select id, story_id from articles"))
    dups = {r["url"]: r for r in db.query("select * from duplicates")}
    assert set(dups) == {"https://late.test/1", "https://early.test/1"}
    assert all(d["article_id"] == kept["id"] and d["kind"] == "near" for d in dups.values())
    story = next(db.query("select * from stories"))
    assert story["id"] == kept["story_id"] and story["article_count"] == 1
    assert db["stories"].count == 1
    for table in ("neardup_fingerprints", "neardup_fingerprints_new"):
        assert (
            db.execute(
                f"select count(*) from {table} where article_id != ?", [kept["id"]]
            ).fetchone()[0]
            == 0
        )


def test_an_earlier_published_exact_copy_is_kept_whatever_the_arrival_order(tmp_path):
    import sqlite_utils

    corpus = Corpus(tmp_path / "c.db")
    corpus.start_crawl("files", {})
    corpus.add_article(art("https://republisher.test/1", WIRE, "2024-08-19T16:02:00+01:00"))
    assert (
        corpus.add_article(art("https://wire.test/1", WIRE, "2024-08-19T12:31:00Z")).status
        == "stored"
    )
    corpus.close()
    db = sqlite_utils.Database(tmp_path / "c.db")
    assert [r["url"] for r in db.query("select url from articles")] == ["https://wire.test/1"]
    assert [(r["url"], r["kind"]) for r in db.query("select url, kind from duplicates")] == [
        ("https://republisher.test/1", "exact")
    ]


def test_an_earlier_copy_takes_over_the_story_its_original_has_when_written(tmp_path):
    import sqlite_utils

    corpus = Corpus(tmp_path / "c.db")
    corpus.start_crawl("files", {})
    corpus.add_article(art("https://late.test/1", WIRE, "2024-05-02T09:00:00Z"))
    corpus.close()
    corpus = Corpus(tmp_path / "c.db", batch_size=100)
    corpus.start_crawl("files", {})
    corpus.add_article(
        art("https://early.test/1", WIRE + " Photo: agency.", "2024-05-01T18:00:00Z")
    )
    # before the batch is written, the stored original changes story (as the
    # re-partitioning of an article written earlier in the same batch may do)
    moved_to = corpus.db.execute(
        "INSERT INTO stories (title, article_count) VALUES ('other', 1)"
    ).lastrowid
    corpus.db.execute(
        "UPDATE articles SET story_id = ? WHERE url = 'https://late.test/1'", [moved_to]
    )
    corpus.close()
    db = sqlite_utils.Database(tmp_path / "c.db")
    assert [(r["url"], r["story_id"]) for r in db.query("select url, story_id from articles")] == [
        ("https://early.test/1", moved_to)
    ]


def test_an_earlier_copy_replaces_an_updated_article_and_every_copy_it_matches(tmp_path):
    """Two stored articles with the same text (one got it by an update, which
    keeps a version): an earlier copy replaces both, the outcome names both,
    and the version moves to the kept article with the URL it came from."""
    import sqlite_utils

    writer_crawl(
        tmp_path / "c.db",
        art("https://a.test/1", WIRE, "2024-05-03T09:00:00Z"),
        art("https://b.test/1", OTHER, "2024-05-04T09:00:00Z"),
    )
    [update] = writer_crawl(
        tmp_path / "c.db", art("https://b.test/1", WIRE, "2024-05-04T09:00:00Z")
    )
    assert update.status == "updated"
    [outcome] = writer_crawl(
        tmp_path / "c.db", art("https://wire.test/1", WIRE, "2024-05-01T09:00:00Z")
    )
    assert (outcome.status, outcome.replaced, outcome.replaced_in_crawl) == (
        "stored",
        ("exact", "near"),
        0,
    )
    db = sqlite_utils.Database(tmp_path / "c.db")
    kept = next(db.query("select id, url from articles"))
    assert kept["url"] == "https://wire.test/1" and db["articles"].count == 1
    assert {
        (r["url"], r["article_id"]) for r in db.query("select url, article_id from duplicates")
    } == {("https://a.test/1", kept["id"]), ("https://b.test/1", kept["id"])}
    assert [(r["article_id"], r["url"], r["text"]) for r in db.query("select * from versions")] == [
        (kept["id"], "https://b.test/1", OTHER)
    ]


def test_an_article_updated_and_replaced_in_the_same_batch(tmp_path):
    """A refetched article whose text changed, then an earlier copy of its old
    text, both waiting in one batch: the batch is written, the article is a
    duplicate, and this crawl counted it (as updated)."""
    import sqlite_utils

    writer_crawl(tmp_path / "c.db", art("https://late.test/1", WIRE, "2024-05-03T09:00:00Z"))
    rewritten = OTHER + " " + OTHER.replace("council", "assembly")
    update, outcome = writer_crawl(
        tmp_path / "c.db",
        art("https://late.test/1", rewritten, "2024-05-03T09:00:00Z"),
        art("https://early.test/1", "Photo: agency. " + WIRE, "2024-05-01T09:00:00Z"),
    )
    assert update.status == "updated"
    assert (outcome.replaced, outcome.replaced_in_crawl) == (("near",), 1)
    db = sqlite_utils.Database(tmp_path / "c.db")
    assert [r["url"] for r in db.query("select url from articles")] == ["https://early.test/1"]
    assert [r["url"] for r in db.query("select url from duplicates")] == ["https://late.test/1"]
    assert db["versions"].count == 0


def _reference_candidates(db, sk: neardup.Sketch) -> list[tuple[int, int]]:
    """The candidate rule spelt out in Python over every stored posting: each
    fingerprint counts its POSTING_LIMIT newest articles; a stored text of
    fewer than MIN_SHINGLES shingles is never a copy, so no candidate."""
    from collections import Counter

    from crawler.storage.nearindex import POSTING_LIMIT

    holders: dict[int, list[int]] = {}
    for table in ("neardup_fingerprints", "neardup_fingerprints_new"):
        for fp, aid in db.execute(f"SELECT hash, article_id FROM {table}"):
            holders.setdefault(fp, []).append(aid)
    shared: Counter[int] = Counter()
    for fp in sk.fingerprints:
        shared.update(sorted(holders.get(fp, ()), reverse=True)[:POSTING_LIMIT])
    sizes = {
        a: (s, f)
        for a, s, f in db.execute("SELECT article_id, shingles, fingerprints FROM article_features")
    }
    return [
        (aid, n)
        for aid, n in sorted(shared.items())
        if aid in sizes
        and sizes[aid][0] >= neardup.MIN_SHINGLES
        and neardup.is_candidate(n, len(sk.fingerprints), sizes[aid][1])
    ]


def test_the_candidate_lookup_drops_no_candidate_before_its_join(tmp_path):
    """The lookup drops articles sharing too few fingerprints before it joins
    them, with the threshold of the smallest stored fingerprint count that can
    be a copy (a short text's, here): the candidates are those of the rule
    applied to every posting, template phrases held by more articles than the
    cap included."""
    import random

    rng = random.Random(7)
    words = [f"w{k}" for k in range(400)]
    template = (
        "Subscribe to our newsletter for the latest news from the valley every morning today."
    )

    def body(n: int) -> str:
        return " ".join(rng.choice(words) for _ in range(n))

    texts = [template + "\n" + body(rng.choice((12, 30, 60, 200))) for _ in range(45)]
    texts += [texts[k] + " " + body(5) for k in range(0, 10, 2)]  # near copies
    corpus = Corpus(tmp_path / "c.db", batch_size=7)
    corpus.start_crawl("files", {})
    for k, text in enumerate(texts):
        corpus.add_article(art(f"https://s{k % 3}.test/{k}", text))
    corpus.flush()
    near = corpus.index.near
    probes = texts[:12] + [template + "\n" + body(40), template + " " + texts[3]]
    found = 0
    for text in probes:
        sk = neardup.sketch(text)
        got = near._stored_candidates(sk)
        assert got == _reference_candidates(corpus.db, sk)
        found += len(got)
    assert found  # (the probes have candidates)
    plan = " ".join(
        str(r[-1])
        for r in corpus.db.execute("EXPLAIN QUERY PLAN " + nearindex._MIN_FINGERPRINTS_SQL)
    )
    assert "idx_article_features_fingerprints" in plan  # one seek, whatever the corpus size
    corpus.close()
