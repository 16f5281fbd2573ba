"""Stories split and merge as they grow: the re-partitioning after each arrival.

Two earthquakes of the same kind (shared vocabulary: rubble, aftershocks,
tents) reach the corpus interleaved. A single pass puts them into one story
(each new article is similar enough to the last one of the other quake); the
re-partitioning must cut them apart, online in the writer and offline in
``regroup``, and leave the stored story tables consistent.
"""

from __future__ import annotations

import random
import sqlite3
from collections import Counter, defaultdict

import pytest

from crawler import stories
from crawler.dedup.exact import content_hash
from crawler.items import Article
from crawler.storage.corpus import Corpus, open_database, write_transaction
from crawler.storage.storyindex import StoryIndex
from tests.helpers import crawl_stats, scrapy_crawl

#: the made-up words of the generated topics
SYLLABLES = "ka lo mi ren tu sa vo ne di par gel os tri bem cu ja fe ho".split()

GENERIC = [
    "Rescue teams dug through the rubble of collapsed houses with their bare hands.",
    "The earthquake struck shortly after dawn while most families were still asleep.",
    "Aftershocks rattled the region for hours and frightened residents slept outdoors.",
    "Hospitals treated hundreds of injured people and appealed for blood donations.",
    "The government sent tents, blankets and drinking water to the stricken villages.",
    "Seismologists said the shallow quake was felt across the whole province.",
    "Schools were closed and many roads were blocked by landslides after the tremor.",
    "Aid agencies warned that cold nights would add to the suffering of the homeless.",
]
EVENTS = {
    "qeshm": [
        "A strong earthquake hit Qeshm Island near Bandar Abbas in southern Iran.",
        "Governor Hossein Kazemi said ten villages on Qeshm Island were badly damaged.",
        "The Red Crescent flew rescuers from Bandar Abbas to the island by helicopter.",
        "Iranian state television showed fishermen in Qeshm searching for relatives.",
        "Officials in Hormozgan province counted thirteen dead on Qeshm Island.",
    ],
    "ercis": [
        "A powerful earthquake hit the city of Ercis near Van in eastern Turkey.",
        "Mayor Mehmet Yildiz said dozens of apartment blocks in Ercis had collapsed.",
        "Turkish soldiers flew rescuers from Ankara to Van airport overnight.",
        "Prime Minister Recep Erdogan visited survivors in Ercis on Monday evening.",
        "Officials in Van province counted hundreds of dead in Ercis.",
    ],
}


def quake_articles(per_event: int = 10, seed: int = 7) -> list[tuple[str, str]]:
    """(event, text), the two quakes interleaved; three sentences of the event's
    own and four shared ones each."""
    rng = random.Random(seed)
    out = []
    for _ in range(per_event):
        for event in ("qeshm", "ercis"):
            own = rng.sample(EVENTS[event], 3)
            shared = rng.sample(GENERIC, 4)
            out.append((event, " ".join(own[:1] + shared[:2] + own[1:] + shared[2:])))
    return out


def stories_of(events: list[str], labels: list[int]) -> dict[str, set[int]]:
    found: dict[str, set[int]] = defaultdict(set)
    for event, label in zip(events, labels, strict=False):
        found[event].add(label)
    return found


def test_a_single_pass_would_merge_the_two_quakes():
    """The premise of the other tests: the join decision alone merges them."""
    arts = quake_articles()
    stats = stories.TermStats()
    tfs = [dict(stories.terms(None, text)) for _, text in arts]
    for tf in tfs:
        stats.add(tf)
    qeshm = [
        stories.stored_terms(tf, stats)
        for (e, _), tf in zip(arts, tfs, strict=False)
        if e == "qeshm"
    ]
    ercis = [
        stories.stored_terms(tf, stats)
        for (e, _), tf in zip(arts, tfs, strict=False)
        if e == "ercis"
    ]
    assert max(stories.cosine(a, b) for a in qeshm for b in ercis) >= stories.THRESHOLD


def test_regroup_cuts_the_two_quakes_apart():
    arts = quake_articles()
    docs = [
        stories.Doc(i, None, dict(stories.terms(None, text))) for i, (_, text) in enumerate(arts)
    ]
    groups = stories.regroup(docs)
    found = stories_of([e for e, _ in arts], [groups[i] for i in range(len(arts))])
    assert len(found["qeshm"]) == len(found["ercis"]) == 1
    assert found["qeshm"] != found["ercis"]


def two_blocks(n: int, within: float, between: float, jitter: int = 0) -> list[list[float]]:
    """A similarity matrix of two groups (indices < n/2 and the rest)."""
    half = n // 2
    S = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(n):
            if i != j:
                same = (i < half) == (j < half)
                S[i][j] = (within if same else between) + 0.001 * ((i * 7 + j * 7 + jitter) % 5)
    return S


def test_partition_splits_two_clear_groups_and_keeps_one_whole():
    S = two_blocks(12, 0.6, 0.1)
    assert sorted(map(sorted, stories.partition(S))) == [list(range(6)), list(range(6, 12))]
    one = [[0.0 if i == j else 0.5 + 0.001 * ((i + j) % 3) for j in range(8)] for i in range(8)]
    assert stories.partition(one) == [list(range(8))]


def test_a_cut_is_refused_when_sides_are_too_small_or_too_alike():
    # two groups of 2 and 3: too small to be stories of their own
    assert len(stories.partition(two_blocks(5, 0.6, 0.1))) == 1
    # the groups are barely more alike within than between
    assert len(stories.partition(two_blocks(12, 0.5, 0.4))) == 1


def test_a_cut_is_refused_when_a_nearest_neighbour_lies_across():
    S = two_blocks(12, 0.6, 0.1)
    # article 0 is closest to two articles of the other group
    for j in (6, 7):
        S[0][j] = S[j][0] = 0.9
    A, B = list(range(6)), list(range(6, 12))
    assert not stories.cut_holds(S, A, B)
    assert stories.cut_holds(two_blocks(12, 0.6, 0.1), A, B)


def test_the_days_an_article_names_are_terms_never_weighed():
    tf = stories.terms(
        "Quake hits Qeshm", "The quake struck on Sunday, November 27, at noon. On Monday, tents."
    )
    assert stories.event_days(tf) == ("sunday", "nov-27")
    assert stories.event_days(stories.terms(None, "It struck on 8th October.")) == (None, "oct-8")
    assert stories.event_days(stories.terms(None, "No day at all.")) == (None, None)
    stats = stories.TermStats()
    stats.add(tf)
    weighed = stories.weigh(tf, stats)
    assert "qeshm" in weighed
    assert not [t for t in weighed if t.startswith(stories.SPECIFIC)]
    assert stats.idf("@weekday=sunday") == stats.idf("never-seen")


def test_days_differ_when_the_sides_name_other_days_than_each_other():
    tue, wed = ["tuesday"] * 6, ["wednesday"] * 6
    A, B = list(range(6)), list(range(6, 12))
    assert stories.days_differ(A, B, tue + wed)
    assert not stories.days_differ(A, B, tue + tue)
    # as many pairs across agree as within: one event told on two days
    assert not stories.days_differ(A, B, (["tuesday", "wednesday"] * 6))
    # too few articles name a day to tell
    assert not stories.days_differ(A, B, tue[:1] + [None] * 5 + wed[:1] + [None] * 5)


def test_a_cut_between_two_days_holds_though_a_neighbour_lies_across():
    S = two_blocks(12, 0.6, 0.3)
    for j in (6, 7):  # article 0 is closest to two articles of the other group
        S[0][j] = S[j][0] = 0.9
    A, B = list(range(6)), list(range(6, 12))
    assert not stories.cut_holds(S, A, B)
    on = [("tuesday", None)] * 6 + [("wednesday", "dec-10")] * 6
    assert stories.cut_holds(S, A, B, on)
    assert not stories.cut_holds(S, A, B, [("tuesday", None)] * 12)
    assert sorted(map(sorted, stories.partition(S, on))) == [A, B]
    assert len(stories.partition(S)) == 1
    # the days never make a cut of sides too alike
    assert not stories.cut_holds(two_blocks(12, 0.5, 0.4), A, B, on)


def test_relabel_largest_group_keeps_the_story_and_the_rest_take_others():
    # a group of 4 from story 5 and one article of story 9; a group of 3 from story 5
    groups = [[0, 1, 2, 3, 4], [5, 6, 7]]
    labels = [5, 5, 5, 5, 9, 5, 5, 5]
    assert stories.relabel(groups, labels) == [5, None]
    # one group out of two stories: they merge into the story most members had
    assert stories.relabel([[0, 1, 2]], [9, 4, 4]) == [4]


def test_pair_cache_gives_the_same_matrix_and_stays_bounded():
    vecs = [{"a": 0.6, "b": 0.8}, {"a": 1.0}, {"b": 1.0}]
    cache = stories.PairCache(limit=10)
    first = cache.matrix([1, 2, 3], vecs)
    assert first == cache.matrix([1, 2, 3], vecs)
    assert first[0][1] == pytest.approx(0.6) and first[1][2] == 0.0
    cache.matrix([4, 5, 6, 7], vecs + [{"c": 1.0}])
    assert len(cache.pairs) <= 10


def corpus_with_quakes(path) -> tuple[list[str], sqlite3.Connection, Corpus]:
    arts = quake_articles()
    corpus = Corpus(path, batch_size=7)
    corpus.start_crawl("files", {})
    for i, (event, text) in enumerate(arts):
        corpus.add_article(
            Article(
                url=f"https://outlet{i % 6}.test/{event}/{i}",
                title=None,
                text=text,
                content_hash=content_hash(text),
                word_count=len(text.split()),
                site=f"Outlet {i % 6}",
                published=f"2024-03-0{1 + i % 3}T10:00:00Z",
            )
        )
    moved = corpus.index.articles_moved
    corpus.close()
    assert moved > 0
    return [e for e, _ in arts], sqlite3.connect(path), corpus


def test_the_writer_cuts_the_two_quakes_apart_and_keeps_the_tables_consistent(tmp_path):
    events, db, _ = corpus_with_quakes(tmp_path / "c.db")
    rows = db.execute("SELECT id, story_id, site FROM articles ORDER BY id").fetchall()
    found = stories_of(events, [r[1] for r in rows])
    assert len(found["qeshm"]) == len(found["ercis"]) == 1
    assert found["qeshm"] != found["ercis"]
    # every story row counts its articles; no empty story is left behind
    counts = dict(db.execute("SELECT story_id, count(*) FROM articles GROUP BY story_id"))
    assert dict(db.execute("SELECT id, article_count FROM stories")) == counts
    # the sentences moved with their articles
    assert (
        db.execute(
            "SELECT count(*) FROM story_sentences s JOIN articles a ON a.id = s.article_id"
            " WHERE s.story_id != a.story_id"
        ).fetchone()[0]
        == 0
    )
    # and each says how many other outlets of its (new) story have it
    sentences = db.execute(
        "SELECT story_id, site, key, outlets FROM story_sentences WHERE key IS NOT NULL"
    ).fetchall()
    sites: dict[tuple[int, str], set[str]] = defaultdict(set)
    for story_id, site, key, _ in sentences:
        sites[(story_id, key)].add(site)
    assert all(
        outlets == len(sites[(story_id, key)] - {site})
        for story_id, site, key, outlets in sentences
    )
    # a sentence both quakes share is not counted across the two stories
    shared = {k for (s, k) in sites if s == rows[0][1]} & {k for (s, k) in sites if s == rows[1][1]}
    assert shared


@pytest.mark.e2e
def test_a_real_crawl_cuts_them_apart_and_counts_the_moves(tmp_path):
    folder = tmp_path / "pages"
    folder.mkdir()
    arts = quake_articles()
    for i, (_event, text) in enumerate(arts):
        (folder / f"{i:02d}.html").write_text(
            f"<html><head><title>Earthquake report {i}</title>"
            f'<meta property="og:site_name" content="Outlet {i % 6}">'
            f'<meta property="article:published_time" content="2024-03-0{1 + i % 3}T10:00:00Z">'
            f"</head><body><article><h1>Earthquake report {i}</h1><p>{text}</p>"
            "</article></body></html>",
            encoding="utf-8",
        )
    result = scrapy_crawl(
        "files",
        tmp_path / "c.db",
        path=str(folder),
        settings={"CONCURRENT_REQUESTS": 1, "CLEAN_WORKERS": 0},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert crawl_stats(result)["corpus/stories/articles_moved"] > 0
    rows = result.rows("SELECT fetched_url, story_id FROM articles")
    assert len(rows) == len(arts)
    by_file = {r["fetched_url"].rsplit("/", 1)[1]: r["story_id"] for r in rows}
    found = stories_of([e for e, _ in arts], [by_file[f"{i:02d}.html"] for i in range(len(arts))])
    assert len(found["qeshm"]) == len(found["ercis"]) == 1
    assert found["qeshm"] != found["ercis"]


def partition_of(db: sqlite3.Connection) -> set[frozenset[int]]:
    groups: dict[int, set[int]] = defaultdict(set)
    for aid, story_id in db.execute("SELECT id, story_id FROM articles"):
        groups[story_id].add(aid)
    return {frozenset(g) for g in groups.values()}


def test_rebuild_keeps_the_quakes_apart_and_the_tables_consistent(tmp_path):
    events, db, _ = corpus_with_quakes(tmp_path / "c.db")
    db.close()
    sdb = open_database(tmp_path / "c.db")
    with write_transaction(sdb):
        StoryIndex(sdb).rebuild()
    sdb.close()
    db = sqlite3.connect(tmp_path / "c.db")
    labels = [r[0] for r in db.execute("SELECT story_id FROM articles ORDER BY id")]
    found = stories_of(events, labels)
    assert len(found["qeshm"]) == len(found["ercis"]) == 1
    assert found["qeshm"] != found["ercis"]
    assert len(partition_of(db)) == 2


def _index_dump(path) -> dict[str, list]:
    db = sqlite3.connect(path)
    out = {
        table: db.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
        for table in (
            "neardup_fingerprints",
            "neardup_fingerprints_new",
            "story_terms",
            "story_terms_new",
        )
    }
    out["articles"] = db.execute("SELECT id, story_id FROM articles ORDER BY id").fetchall()
    out["stories"] = db.execute(
        "SELECT id, title, article_count FROM stories ORDER BY id"
    ).fetchall()
    out["features"] = db.execute("SELECT * FROM article_features ORDER BY article_id").fetchall()
    out["sentences"] = db.execute(
        "SELECT story_id, article_id, position, sentence, key"
        " FROM story_sentences ORDER BY article_id, position"
    ).fetchall()
    db.close()
    return out


def _rebuilt(path, known=None) -> dict[str, list]:
    sdb = open_database(path)
    with write_transaction(sdb):
        StoryIndex(sdb).rebuild(known)
    sdb.close()
    return _index_dump(path)


def test_rebuild_with_the_features_known_gives_the_same_index(tmp_path):
    """The cold-start regrouping hands the rebuild the features the workers
    computed: it must come out as if they were computed again, and an entry
    whose title or text is no longer the stored one must be ignored."""
    from crawler import features

    for name in ("a.db", "b.db", "c.db"):
        corpus_with_quakes(tmp_path / name)
    db = sqlite3.connect(tmp_path / "a.db")
    rows = db.execute("SELECT id, title, text FROM articles ORDER BY id").fetchall()
    db.close()
    known = {aid: (title, text, features.compute(title, text)) for aid, title, text in rows}
    first, title, text = rows[0]
    other = rows[-1][2]
    known[first] = (title, other, features.compute(title, other))  # stale: the text changed
    computed = _rebuilt(tmp_path / "a.db")
    assert _rebuilt(tmp_path / "b.db", known) == computed
    # (and the entries are used: features for a matching text are taken as they come)
    known[first] = (title, text, features.compute(title, other))
    assert (
        _rebuilt(tmp_path / "c.db", known)["neardup_fingerprints"]
        != computed["neardup_fingerprints"]
    )


BOILERPLATE = (
    "Our reporters cover the valley every day. Send tips to the newsroom desk. "
    "Local journalism depends on readers like you, so subscribe to support our work."
)


def test_rebuild_undoes_the_merges_of_a_new_corpus_first_articles():
    """Twenty local topics of three articles each, every page ending in the same
    boilerplate. While the idf knows only a few pages, the boilerplate looks
    telling and the crawl's first articles stick together; the rebuild, with
    the idf of the whole corpus, gives each topic its story."""
    rng = random.Random(3)
    syllables = SYLLABLES[:15]
    topics = [
        ["".join(rng.choice(syllables) for _ in range(3)) for _ in range(8)] for _ in range(20)
    ]
    docs, topic_of = [], {}
    for _ in range(3):
        for t, vocab in enumerate(topics):
            n = len(docs) + 1
            text = f"The {' '.join(rng.sample(vocab, 6))} happened. {BOILERPLATE}"
            docs.append(stories.Doc(n, None, dict(stories.terms(None, text))))
            topic_of[n] = t
    groups = stories.regroup(docs)
    by_topic = stories_of(
        [str(topic_of[d.article_id]) for d in docs], [groups[d.article_id] for d in docs]
    )
    assert all(len(labels) == 1 for labels in by_topic.values())
    assert len({groups[d.article_id] for d in docs}) == len(topics)


#: words of a topic, and how many of them each sentence uses
VOCAB, SAMPLE = 20, 10


def _boilerplate_corpus(path, n_topics: int):
    """A crawl's worth of local news: ``n_topics`` topics of three articles,
    every page ending in the same boilerplate, written through the writer."""
    rng = random.Random(5)
    syllables = SYLLABLES[:18]
    topics = [
        ["".join(rng.choice(syllables) for _ in range(3)) for _ in range(VOCAB)]
        for _ in range(n_topics)
    ]
    corpus = Corpus(path, batch_size=1000)
    corpus.start_crawl("files", {})
    topic_of = {}
    for round_ in range(3):
        for t, vocab in enumerate(topics):
            words = [" ".join(rng.sample(vocab, SAMPLE)) for _ in range(3)]
            text = f"The {words[0]} happened. Then {words[1]} followed. Later {words[2]} came. {BOILERPLATE}"
            url = f"https://valley.test/{t}-{round_}"
            topic_of[url] = t
            outcome = corpus.add_article(
                Article(
                    url=url,
                    title=None,
                    text=text,
                    content_hash=content_hash(text),
                    word_count=len(text.split()),
                    site="The Valley",
                )
            )
            assert outcome.status == "stored"
    corpus.flush()
    rows = corpus.db.execute("SELECT url, story_id FROM articles").fetchall()
    regrouped = corpus.cold_start_regrouped
    corpus.close()
    return [str(topic_of[u]) for u, _ in rows], [s for _, s in rows], regrouped


def test_a_new_corpus_regroups_its_first_articles_once_it_is_large_enough(tmp_path, monkeypatch):
    """The write that takes a new corpus past COLD_START_DOCS articles regroups
    them with the idf of all of them: the boilerplate no longer holds them together."""
    from crawler.storage import corpus as storage

    n_topics = storage.COLD_START_DOCS // 3 + 1
    events, labels, regrouped = _boilerplate_corpus(tmp_path / "a.db", n_topics)
    assert regrouped == 3 * n_topics
    by_topic = stories_of(events, labels)
    assert all(len(s) == 1 for s in by_topic.values())  # each topic one story ...
    assert len(set(labels)) == n_topics  # ... of its own

    # the same crawl without the regrouping: its first articles stick together
    monkeypatch.setattr(storage, "COLD_START_DOCS", 10**9)
    _, labels, regrouped = _boilerplate_corpus(tmp_path / "b.db", n_topics)
    assert regrouped == 0
    assert max(Counter(labels).values()) > 10


def test_cached_similarities_go_with_the_weights_they_came_from(tmp_path):
    """Re-partitioning caches pair similarities of stored weights; an article
    re-indexed (new text, stripped chrome) or a rebuild changes those weights,
    so its pairs, or all of them, are forgotten."""
    _, db, _ = corpus_with_quakes(tmp_path / "c.db")
    ids = [r[0] for r in db.execute("SELECT id FROM articles ORDER BY id")]
    db.close()
    sdb = open_database(tmp_path / "c.db")
    index = StoryIndex(sdb)
    weights = index._stored_weights(ids)
    index._pairs.matrix(ids, [weights[a] for a in ids])
    assert any(ids[0] in pair for pair in index._pairs.pairs)
    with write_transaction(sdb):
        index.remove(ids[0])
    assert not any(ids[0] in pair for pair in index._pairs.pairs)
    assert index._pairs.pairs  # the other pairs stay
    with write_transaction(sdb):
        index.rebuild()
    assert index._pairs.pairs == {}
    sdb.close()
