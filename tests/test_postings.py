"""The posting tables' staged parts: new postings (fingerprints, key terms) land
in ``*_new`` tables and are folded into the large ones a key range at a time.
Where a posting lives must never change what a lookup finds."""

from __future__ import annotations

import random
from collections import defaultdict

import pytest

from crawler.dedup import near as neardup
from crawler.dedup.exact import content_hash
from crawler.items import Article
from crawler.storage import postings
from crawler.storage.corpus import Corpus, open_database
from crawler.storage.postings import _capped_counts_sql
from crawler.storage.schema import POSTINGS

WORDS = (
    "harbour council budget ferry strike court ruling flood river bridge school teachers "
    "election mayor vote hospital nurses train delay station storm power outage farmers "
    "drought prices fuel airport runway police inquiry museum fire library tax"
).split()
TOWNS = ["Kelso", "Ardmore", "Brenna", "Tulloch", "Maybole", "Dunrae", "Corran", "Lissan"]


def articles(n: int, seed: int = 3) -> list[Article]:
    """Articles on a dozen events (each with its own town, names and words),
    every seventh one a lightly edited copy of an earlier one."""
    rng = random.Random(seed)
    events = [(rng.choice(TOWNS), rng.sample(WORDS, 8), f"Official{k}") for k in range(12)]
    out: list[Article] = []
    for i in range(n):
        if i % 7 == 6:
            text = "Updated: " + out[rng.randrange(len(out))].text
        else:
            town, words, name = events[rng.randrange(len(events))]
            sentences = []
            for _ in range(8):
                body = rng.sample(words, 5) + rng.sample(WORDS, 6)
                sentences.append(f"In {town} {name} said the " + " ".join(body) + ".")
            text = "\n".join(sentences)
        out.append(
            Article(
                url=f"https://site{i % 5}.test/{i}",
                title=text.split(".")[0][:60],
                text=text,
                content_hash=content_hash(text),
                word_count=len(text.split()),
                published=f"2026-03-{1 + i // 10:02d}T08:00:00Z",
                site=f"site{i % 5}.test",
            )
        )
    return out


def ingest(path, items: list[Article], batch_size: int = 4) -> Corpus:
    corpus = Corpus(path, batch_size=batch_size)
    corpus.start_crawl("files", {})
    for item in items:
        corpus.add_article(item)
    corpus.flush()
    return corpus


def test_capped_counts_read_both_parts_as_one_table(tmp_path):
    """Each key counts its ``cap`` newest articles over both parts, the same as
    if every posting were in the large table."""
    rng = random.Random(5)
    postings = {(rng.randrange(12), rng.randrange(1, 300)) for _ in range(2500)}
    cap = 7
    query = list(range(-2, 14))  # some keys nobody has
    newest: dict[int, list[int]] = defaultdict(list)
    for key, aid in sorted(postings, key=lambda p: -p[1]):
        newest[key].append(aid)
    expected: dict[int, int] = defaultdict(int)
    for key in query:
        for aid in newest[key][:cap]:
            expected[aid] += 1
    sql = _capped_counts_sql("story_terms", "term", len(query), cap)
    db = open_database(tmp_path / "c.db")
    for staged_share in (0.0, 0.3, 1.0):
        for table, _ in POSTINGS:
            db.execute(f"DELETE FROM {table}")
            db.execute(f"DELETE FROM {table}_new")
        for key, aid in sorted(postings):
            table = "story_terms_new" if rng.random() < staged_share else "story_terms"
            db.execute(f"INSERT INTO {table} (term, article_id) VALUES (?, ?)", [key, aid])
        assert dict(db.execute(sql, query).fetchall()) == expected, staged_share
    # the cap-th newest of a key: both indexes merged as they are read, no sort
    plan = [str(r[-1]) for r in db.execute("EXPLAIN QUERY PLAN " + sql, query)]
    assert "MERGE (UNION ALL)" in plan and not any("TEMP B-TREE FOR ORDER BY" in p for p in plan)


def parts(corpus: Corpus, table: str, key: str) -> tuple[set, set]:
    return tuple(
        {tuple(r) for r in corpus.db.execute(f"SELECT {key}, article_id FROM {t}")}
        for t in (table, table + "_new")
    )


def test_staged_postings_are_folded_and_each_lives_in_one_part(tmp_path):
    corpus = ingest(tmp_path / "c.db", articles(120))
    stored = dict(corpus.db.execute("SELECT id, text FROM articles").fetchall())
    expected = {
        (fp, aid) for aid, text in stored.items() for fp in neardup.sketch(text).fingerprints
    }
    large, staged = parts(corpus, "neardup_fingerprints", "hash")
    assert large and staged, "some postings folded, the newest still staged"
    assert not large & staged
    assert large | staged == expected
    terms_large, terms_staged = parts(corpus, "story_terms", "term")
    assert terms_large and not terms_large & terms_staged
    # the sweep wraps around the key space: folding again and again empties the staged part
    for _ in range(2000):
        if not corpus.index.fold():
            break
    for table, key in POSTINGS:
        large_after, staged_after = parts(corpus, table, key)
        assert not staged_after, table
    assert large_after | staged_after == terms_large | terms_staged
    corpus.close()


def test_folding_everything_empties_the_staged_part(tmp_path):
    corpus = ingest(tmp_path / "c.db", articles(40))
    before = [set().union(*parts(corpus, table, key)) for table, key in POSTINGS]
    assert corpus.index.fold(everything=True) > 0
    for (table, key), rows in zip(POSTINGS, before, strict=False):
        large, staged = parts(corpus, table, key)
        assert not staged and large == rows
    corpus.close()


def test_stories_and_duplicates_do_not_depend_on_where_postings_live(tmp_path, monkeypatch):
    """The same articles, once with postings staged and folded a slice at a time
    and once folded whole at every write, give the same stories and copies."""
    items = articles(160)

    def outcome(path):
        corpus = ingest(path, items)
        staged = sum(
            corpus.db.execute(f"SELECT count(*) FROM {t}_new").fetchone()[0] for t, _ in POSTINGS
        )
        stories_ = corpus.db.execute("SELECT url, story_id FROM articles ORDER BY id").fetchall()
        dups = corpus.db.execute(
            "SELECT d.url, a.url, d.kind FROM duplicates d JOIN articles a ON a.id = d.article_id"
            " ORDER BY d.url"
        ).fetchall()
        corpus.close()
        return staged, stories_, dups

    staged, sliced_stories, sliced_dups = outcome(tmp_path / "sliced.db")
    assert staged > 0
    monkeypatch.setattr(postings, "FOLD_SLICES", 1)  # every write folds all it staged
    staged, whole_stories, whole_dups = outcome(tmp_path / "whole.db")
    assert staged == 0
    assert any(kind == "near" for _, _, kind in sliced_dups)
    assert len({sid for _, sid in sliced_stories}) < len(sliced_stories)
    assert sliced_stories == whole_stories
    assert sliced_dups == whole_dups


@pytest.mark.parametrize("table,key", POSTINGS)
def test_removing_an_article_removes_its_postings_from_both_parts(tmp_path, table, key):
    corpus = ingest(tmp_path / "c.db", articles(60))
    large, staged = parts(corpus, table, key)
    in_both = {aid for _, aid in large} & {aid for _, aid in staged}
    victim = min(in_both) if in_both else next(aid for _, aid in staged)
    with corpus.db.conn:
        corpus.index.remove(victim)
    large, staged = parts(corpus, table, key)
    assert victim not in {aid for _, aid in large | staged}
    corpus.close()


def test_the_staged_part_stays_bounded_whatever_the_batch_size(tmp_path, monkeypatch):
    """A large write batch folds as much as it takes to keep the staged part
    under STAGED_MAX rows (else it would outgrow the cache)."""
    monkeypatch.setattr(postings, "STAGED_MAX", 300)
    corpus = ingest(tmp_path / "c.db", articles(80), batch_size=40)
    for table, key in POSTINGS:
        large, staged = parts(corpus, table, key)
        assert len(staged) <= 300 and len(large) > len(staged), table
    corpus.close()


def test_settled_key_terms_are_the_postings_each_in_one_part(tmp_path):
    """The settle weighs every article again (``StoryIndex.rekey``): only the key
    terms that came or went change postings, and afterwards each article's
    postings are its stored key terms, none in both parts."""
    import json

    from crawler.stories import grouping as stories

    corpus = ingest(tmp_path / "c.db", articles(90), batch_size=6)
    before = set().union(*parts(corpus, "story_terms", "term"))
    corpus.finish_crawl("finished", {})
    large, staged = parts(corpus, "story_terms", "term")
    assert not large & staged
    expected = {
        (stories.term_hash(k), aid)
        for aid, keys in corpus.db.execute("SELECT article_id, keys FROM article_features")
        for k in json.loads(keys)
    }
    assert large | staged == expected
    assert expected != before  # (the settle changed some key terms)
    corpus.close()
