"""The writer's fast paths: features from the cleaning workers, batched
sentence bookkeeping, the weights cache and the fingerprint migration."""

from __future__ import annotations

import pickle
import random
import sqlite3
from functools import partial

from crawler import features
from crawler.dedup import near as neardup
from crawler.extract.processing import clean_page
from crawler.items import Article, Page
from crawler.storage.corpus import Corpus, open_database
from crawler.stories import grouping as stories
from tests import helpers

WIRE = (
    "The regional water authority said on Tuesday that reservoir levels in the northern "
    "valleys had fallen to their lowest point in forty years after a dry winter and an "
    "early spring heatwave. Officials asked residents to cut their use by a fifth and "
    "warned that hosepipe bans could follow within weeks if rainfall stays low. Farmers "
    "in the area said irrigation limits would hit vegetable growers hardest this summer."
)


#: the articles of these tests, under the headline of WIRE's page
article = partial(helpers.article, title="Reservoirs at a forty-year low")


def test_clean_page_attaches_features_that_survive_pickling():
    html = (
        f"<html><head><title>Reservoirs at a forty-year low</title></head><body>"
        f"<article><h1>Reservoirs at a forty-year low</h1><p>{WIRE}</p></article></body></html>"
    )
    result = clean_page(Page("https://water.test/a", html.encode(), "text/html"))
    assert isinstance(result, Article)
    back = pickle.loads(pickle.dumps(result))  # the way back from a worker process
    found = getattr(back, "_features", None)
    assert found is not None
    assert found.sketch == neardup.sketch(back.text)
    assert found.terms == stories.terms(back.title, back.text)
    assert [s for s, _ in found.sentences] == stories.sentences(back.text)
    # never a field: not stored, not serialised
    assert "_features" not in {f for f in Article.__dataclass_fields__}


def test_shingles_roll_like_a_polynomial_over_word_hashes():
    words = "one two three four five six seven".split()
    hs = [neardup._word_hash(w) for w in words]
    expected = []
    for i in range(len(words) - 4):
        h = 0
        for value in hs[i : i + 5]:
            h = (h * neardup._BASE + value) % (1 << 63)
        expected.append(h)
    assert neardup.shingles(" ".join(words)) == expected
    short = [neardup._word_hash(w) for w in ("only", "three", "words")]
    whole = (short[0] * neardup._BASE**2 + short[1] * neardup._BASE + short[2]) % (1 << 63)
    assert neardup.shingles("only three words") == [whole]  # one hash of the whole text
    assert neardup.shingles("") == []


def test_an_article_without_precomputed_features_is_handled_the_same(tmp_path):
    with_features = features.attach(article("https://a.test/1", WIRE))
    corpus = Corpus(tmp_path / "a.db")
    corpus.start_crawl("files", {})
    assert corpus.add_article(with_features).status == "stored"
    copy = article("https://b.test/1", WIRE + " A spokesperson declined to comment further.")
    assert not hasattr(copy, "_features")
    outcome = corpus.add_article(copy)
    assert outcome.status == "duplicate" and outcome.kind == "near"
    corpus.close()


def _story_db(tmp_path):
    corpus = Corpus(tmp_path / "s.db")
    corpus.start_crawl("files", {})
    db = corpus.db
    story = db.execute("INSERT INTO stories (title, article_count) VALUES ('t', 0)").lastrowid
    return corpus, db, story


def test_sentence_outlets_kept_incrementally_match_a_full_recount(tmp_path):
    corpus, db, story = _story_db(tmp_path)
    shared = "The minister said the new bridge would open before the end of next year."
    other = "Traffic on the old crossing has doubled since the motorway link was finished."
    texts = {
        ("https://x.test/1", "X"): f"{shared}\n{other}\nOnly the first outlet has this line here.",
        ("https://y.test/1", "Y"): f"{shared}\nThe second outlet writes its own words on it.",
        ("https://x.test/2", "X"): f"{shared}\n{other}\n{shared}",  # same outlet, repeated line
        (
            "https://z.test/1",
            "Z",
        ): f"{other}\nA third outlet has the traffic line but not the quote.",
        ("https://w.test/1", None): f"{other}\nAn article that names no outlet at all has it too.",
    }
    for (url, site), text in texts.items():
        aid = db.execute(
            "INSERT INTO articles (url, title, text, site, story_id) VALUES (?, 't', ?, ?, ?)",
            [url, text, site, story],
        ).lastrowid
        corpus.index.add(
            aid, {"url": url, "text": text, "site": site}, story, dict(stories.terms("t", text))
        )
    incremental = db.execute("SELECT id, outlets FROM story_sentences ORDER BY id").fetchall()
    corpus.index.recount_sentences(story)
    recounted = db.execute("SELECT id, outlets FROM story_sentences ORDER BY id").fetchall()
    assert incremental == recounted
    by_site = {}
    for site, sentence, outlets in db.execute(
        "SELECT site, sentence, outlets FROM story_sentences"
    ):
        by_site.setdefault((site, sentence), set()).add(outlets)
    assert by_site[("X", shared)] == {1}  # Y has it too
    assert by_site[("Y", shared)] == {1}  # X has it (twice, one outlet)
    assert by_site[("Z", other)] == {2}  # X and the unnamed outlet besides Z
    corpus.close()


def test_cached_weights_are_forgotten_when_a_write_fails(tmp_path):
    corpus = Corpus(tmp_path / "w.db")
    corpus.start_crawl("files", {})
    corpus.add_article(article("https://a.test/1", WIRE))
    corpus.flush()
    assert corpus.index._weights_cache
    corpus.index.rolled_back()
    assert not corpus.index._weights_cache
    # and candidates still come from the stored weights
    aid = corpus.db.execute("SELECT id FROM articles").fetchone()[0]
    assert aid in corpus.index._stored_weights([aid])
    corpus.close()


def test_opening_an_older_corpus_recomputes_its_fingerprints(tmp_path):
    path = tmp_path / "old.db"
    corpus = Corpus(path)
    corpus.start_crawl("files", {})
    corpus.add_article(article("https://a.test/1", WIRE))
    corpus.close()
    # make it look like a corpus written before m006 (and m007, which staged
    # new postings): other fingerprints, all in the large tables, neither applied
    conn = sqlite3.connect(path)
    for table in ("neardup_fingerprints", "story_terms"):
        conn.execute(f"INSERT INTO {table} SELECT * FROM {table}_new")
        conn.execute(f"DROP TABLE {table}_new")
    conn.execute("UPDATE neardup_fingerprints SET hash = -hash - 1")
    conn.execute(
        "DELETE FROM _sqlite_migrations WHERE name IN"
        " ('m006_rolling_shingle_hashes', 'm007_staged_postings')"
    )
    conn.commit()
    conn.close()
    db = open_database(path)
    stored = {h for (h,) in db.execute("SELECT hash FROM neardup_fingerprints")}
    assert stored == set(neardup.sketch(WIRE).fingerprints)
    db.close()
    corpus = Corpus(path)
    corpus.start_crawl("files", {})
    outcome = corpus.add_article(article("https://b.test/2", "Updated: " + WIRE))
    assert outcome.status == "duplicate" and outcome.kind == "near"
    corpus.close()


def test_the_writer_keeps_nothing_per_article_once_a_batch_is_written(tmp_path):
    """What the writer holds in memory for articles waiting to be written (their
    fingerprints, for copies within the batch) is gone once they are written:
    a crawl's memory must not grow with the corpus."""
    corpus = Corpus(tmp_path / "m.db", batch_size=10)
    corpus.start_crawl("files", {})
    words = sorted(set(WIRE.lower().replace(".", "").split()))
    for i in range(35):  # three full batches and a partial one
        rng = random.Random(i)
        text = " ".join(rng.choice(words) for _ in range(80))
        assert corpus.add_article(article(f"https://a.test/{i}", text)).status == "stored"
    assert corpus.batch.features  # the partial batch waits
    corpus.flush()
    assert corpus.batch.features == {}
    assert corpus.batch._fingerprints == {}
    corpus.close()


def test_opening_an_older_corpus_gives_its_versions_their_urls(tmp_path):
    path = tmp_path / "old.db"
    for text, status in ((WIRE, "stored"), (WIRE + " Updated.", "updated")):  # two crawls
        corpus = Corpus(path)
        corpus.start_crawl("files", {})
        assert corpus.add_article(article("https://a.test/1", text)).status == status
        corpus.close()
    # make it look like a corpus written before m008: versions without a url
    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE versions DROP COLUMN url")
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm008_versions_url'")
    conn.commit()
    conn.close()
    db = open_database(path)
    assert [tuple(r) for r in db.execute("SELECT url, text FROM versions")] == [
        ("https://a.test/1", WIRE)
    ]
    db.close()
