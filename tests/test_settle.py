"""The end of a crawl settles what it touched: the same pages make the same
corpus whatever order they arrive in (issue #23), through the writer, in process."""

from __future__ import annotations

import itertools
import random
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from crawler.dedup.exact import content_hash
from crawler.dedup.groups import Page, canonical_key, groups, kept_and_copies, kept_of
from crawler.dedup.near import sketch
from crawler.storage.corpus import Corpus
from tests.helpers import article

WORDS = [f"w{i}" for i in range(3000)]


def words(seed: int, n: int) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) for _ in range(n))


#: a short text B contained in the longer A, C and D (which are no copies of each other)
B = words(1, 40)
CHAIN = {
    "https://n.example/a": (words(2, 200) + " " + B, "2025-03-02T10:00:00+00:00"),
    "https://n.example/b": (B, "2025-03-02T12:00:00+00:00"),
    "https://n.example/c": (B + " " + words(3, 200), "2025-03-02T09:00:00+00:00"),
    "https://n.example/d": (words(4, 100) + " " + B + " " + words(5, 100), None),
}


def crawl(path: Path, pages: list[tuple[str, str, str | None]], batch_size: int = 200) -> Corpus:
    corpus = Corpus(path, batch_size=batch_size)
    corpus.start_crawl("files", {})
    for url, text, published in pages:
        corpus.add_article(article(url, text, published, title=url.rsplit("/", 1)[1]))
    corpus.finish_crawl("finished", {})
    return corpus


def crawl_articles(path: Path, articles: Iterable[Any], batch_size: int = 200) -> None:
    """One crawl of ``articles`` (in this order) into the corpus at ``path``."""
    corpus = Corpus(path, batch_size=batch_size)
    corpus.start_crawl("files", {})
    for a in articles:
        corpus.add_article(a)
    corpus.finish_crawl("finished", {})
    corpus.close()


def snapshot(path: Path) -> tuple:
    conn = sqlite3.connect(path)
    arts = sorted(conn.execute("SELECT url, text FROM articles"))
    dups = sorted(
        conn.execute(
            "SELECT d.url, a.url, d.kind FROM duplicates d JOIN articles a ON a.id = d.article_id"
        )
    )
    stories: dict[int, list[str]] = {}
    for url, sid in conn.execute("SELECT url, story_id FROM articles"):
        stories.setdefault(sid, []).append(url)
    conn.close()
    left = 0
    partition = tuple(sorted(tuple(sorted(m)) for m in stories.values()))
    return tuple(arts), tuple(dups), partition, left


def test_groups_and_kept_are_pure_functions_of_the_pairs() -> None:
    pairs = [("b", "a"), ("c", "b"), ("d", "b"), ("x", "y")]
    assert groups(pairs) == [["a", "b", "c", "d"], ["x", "y"]]
    assert groups(list(reversed(pairs))) == groups(pairs)
    # the earliest published is kept, the URL breaks ties, undated ones come last
    assert kept_of([("b", "2025-01-02"), ("a", "2025-01-02"), ("c", None)]) == "a"
    assert kept_of([("b", "2025-01-01T00:00:00Z"), ("a", "2025-01-02")]) == "b"
    assert canonical_key(None, "a") > canonical_key("2030-01-01", "z")
    # each page is a copy of its kept article: the chain B in A, C, D keeps A,
    # C and D (no copies of each other), and B joins the earliest of them
    pages = [Page(u, pub, content_hash(text), sketch(text)) for u, (text, pub) in CHAIN.items()]
    decided = kept_and_copies(pages)
    assert decided == kept_and_copies(reversed(pages))
    assert decided == [
        ("https://n.example/c", [("https://n.example/b", "near", 1.0)]),
        ("https://n.example/a", []),
        ("https://n.example/d", []),
    ]


@pytest.mark.parametrize("batch_size", [1, 200])
def test_a_chain_of_containment_gives_one_group_in_every_order(
    tmp_path: Path, batch_size: int
) -> None:
    seen = set()
    orders = list(itertools.permutations(sorted(CHAIN)))
    for n, order in enumerate(orders if batch_size == 1 else orders[::5]):
        path = tmp_path / f"c{n}.db"
        corpus = crawl(path, [(u, *CHAIN[u]) for u in order], batch_size)
        # the copies' texts are gone once settled
        assert corpus.db.execute("SELECT count(*) FROM temp.crawl_copies").fetchone()[0] == 0
        corpus.close()
        seen.add(snapshot(path))
    assert len(seen) == 1
    arts, dups, _, left = seen.pop()
    # B is a copy of the earliest published of A, C and D (C); they are no
    # copies of each other and stay
    assert [u for u, _ in arts] == [f"https://n.example/{x}" for x in "acd"]
    assert {d[0]: d[1:] for d in dups} == {"https://n.example/b": ("https://n.example/c", "near")}


def test_a_copy_kept_at_the_end_keeps_its_own_text_and_exact_copies(tmp_path: Path) -> None:
    text_b = CHAIN["https://n.example/b"][0]
    pages = [
        ("https://n.example/a", *CHAIN["https://n.example/a"]),
        # B, published first, arrives last: online it is a copy of A ... and so
        # is its exact copy E
        ("https://n.example/e", text_b.upper(), "2025-03-01T00:00:00+00:00"),
        ("https://n.example/b", text_b, "2025-03-01T00:00:00+00:00"),
    ]
    for n, order in enumerate(itertools.permutations(pages)):
        path = tmp_path / f"k{n}.db"
        crawl(path, list(order), batch_size=1).close()
        arts, dups, _, _ = snapshot(path)
        assert arts == (("https://n.example/b", text_b),)
        assert dups == (
            ("https://n.example/a", "https://n.example/b", "near"),
            ("https://n.example/e", "https://n.example/b", "exact"),
        )


def _topics(n_topics: int = 6, per_topic: int = 6) -> list[tuple[str, str, str]]:
    rng = random.Random(7)
    pages = []
    for t in range(n_topics):
        vocab = [f"topic{t}word{k}" for k in range(40)] + [f"Name{t}x{k}" for k in range(5)]
        for k in range(per_topic):
            body = " ".join(rng.choice(vocab) for _ in range(120))
            common = " ".join(rng.choice(WORDS) for _ in range(60))
            pages.append(
                (
                    f"https://s{k % 3}.example/t{t}-{k}",
                    f"{body}. {common}.",
                    f"2025-04-{1 + t % 3:02d}T{k:02d}:00:00+00:00",
                )
            )
    return pages


def test_stories_are_the_same_partition_in_any_order(tmp_path: Path) -> None:
    pages = _topics()
    seen = set()
    for seed in range(4):
        order = list(pages)
        random.Random(seed).shuffle(order)
        path = tmp_path / f"s{seed}.db"
        crawl(path, order, batch_size=7).close()
        seen.add(snapshot(path))
    assert len(seen) == 1
    _, _, partition, _ = seen.pop()
    assert len(partition) >= 2  # (not everything in one story)


def test_settling_again_changes_nothing_and_a_later_crawl_settles_its_own(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.db"
    pages = [(u, *CHAIN[u]) for u in sorted(CHAIN)]
    crawl(path, pages[:2]).close()
    first = snapshot(path)
    corpus = Corpus(path)
    again = corpus.settle(1)
    corpus.close()
    assert snapshot(path) == first and again.changed == 0
    # the next crawl brings C and D: its result depends on the corpus it found
    # (B is a duplicate of A since the first crawl, and a duplicate keeps no
    # text), never on the order of its own pages
    seen = set()
    for n, order in enumerate(itertools.permutations(pages[2:])):
        copy = tmp_path / f"next{n}.db"
        copy.write_bytes(path.read_bytes())
        crawl(copy, list(order), batch_size=1).close()
        seen.add(snapshot(copy))
    assert len(seen) == 1


# --- another address of a stored article (issue #17, point 6) ------------------------

CANON = "https://n.example/story"
AMP = "https://n.example/amp/story"
PAGE = words(11, 150)
AMP_PAGE = PAGE + "\nView the full site for related stories."


def _variant(fetched: str, text: str) -> object:
    return article(CANON, text, "2025-03-02T10:00:00+00:00", fetched_url=fetched)


def _state(path: Path) -> tuple:
    conn = sqlite3.connect(path)
    arts = conn.execute("SELECT url, fetched_url, text FROM articles").fetchall()
    versions = conn.execute("SELECT count(*) FROM versions").fetchone()[0]
    dups = sorted(conn.execute("SELECT url, kind FROM duplicates"))
    conn.close()
    return arts, versions, dups


@pytest.mark.parametrize("batch_size", [1, 200])
def test_an_amp_page_makes_no_version_and_the_canonical_text_is_stored_in_any_order(
    tmp_path: Path, batch_size: int
) -> None:
    pages = [_variant(CANON, PAGE), _variant(AMP, AMP_PAGE)]
    for n, order in enumerate([pages, pages[::-1]]):
        path = tmp_path / f"v{n}.db"
        crawl_articles(path, order, batch_size=batch_size)
        arts, versions, dups = _state(path)
        assert arts == [(CANON, CANON, PAGE)]
        assert versions == 0
        assert dups == [(AMP, "url")]


def test_an_article_fetched_first_as_amp_gets_its_own_text_later_without_a_version(
    tmp_path: Path,
) -> None:
    path = tmp_path / "v.db"
    for page in (_variant(AMP, AMP_PAGE), _variant(CANON, PAGE), _variant(AMP, AMP_PAGE)):
        corpus = Corpus(path)
        corpus.start_crawl("files", {})
        corpus.add_article(page)
        corpus.finish_crawl("finished", {})
        corpus.close()
    arts, versions, _ = _state(path)
    assert arts == [(CANON, CANON, PAGE)] and versions == 0
    # the article itself changing, at its own address, is a version as ever
    corpus = Corpus(path)
    corpus.start_crawl("files", {})
    assert corpus.add_article(_variant(CANON, PAGE + "\nA correction.")).status == "updated"
    corpus.finish_crawl("finished", {})
    corpus.close()
    assert _state(path)[1] == 1


def test_another_address_with_a_new_text_published_later_is_a_version(tmp_path: Path) -> None:
    path = tmp_path / "n.db"
    later = article(CANON, words(12, 150), "2025-03-03T10:00:00+00:00", fetched_url=AMP)
    older = article(CANON, words(13, 150), "2025-03-01T10:00:00+00:00", fetched_url=AMP + "?x")
    outcomes = []
    for crawl_pages in ([_variant(CANON, PAGE)], [later, older]):
        corpus = Corpus(path, batch_size=1)
        corpus.start_crawl("files", {})
        outcomes += [corpus.add_article(a).status for a in crawl_pages]
        corpus.finish_crawl("finished", {})
        corpus.close()
    # not a near copy, published later: the article changed; an older text changes nothing
    assert outcomes == ["stored", "updated", "known"]
    arts, versions, dups = _state(path)
    assert arts == [(CANON, AMP, later.text)] and versions == 1 and dups == []


def test_a_crawl_makes_no_version_of_a_text_it_stored_itself_in_any_order(tmp_path: Path) -> None:
    """Within one crawl the text ranked first is kept and the others make no
    version (one arriving first would, one arriving after would not); the text
    the article had before the crawl is its one version."""
    later = article(CANON, words(12, 150), "2025-03-03T10:00:00+00:00", fetched_url=AMP)
    older = article(CANON, words(13, 150), "2025-03-01T10:00:00+00:00", fetched_url=AMP + "?x")
    for n, order in enumerate([[older, later], [later, older]]):
        path = tmp_path / f"o{n}.db"
        for crawl_pages in ([_variant(CANON, PAGE)], order):
            crawl_articles(path, crawl_pages, batch_size=1)
        arts, versions, dups = _state(path)
        assert arts == [(CANON, AMP, later.text)] and versions == 1 and dups == [], n


def test_the_settle_knows_the_cold_start_of_a_new_corpus() -> None:
    from crawler.storage import corpus, settle

    assert settle.COLD_START_DOCS == corpus.COLD_START_DOCS


@pytest.mark.parametrize("batch_size", [1, 200])
def test_the_same_text_from_the_article_s_own_page_makes_it_its_address(
    tmp_path: Path, batch_size: int
) -> None:
    path = tmp_path / "s.db"
    corpus = Corpus(path, batch_size=batch_size)
    corpus.start_crawl("files", {})
    assert corpus.add_article(_variant(AMP, PAGE)).status == "stored"
    if batch_size == 1:  # written: its own page is not known, and is fetched
        assert corpus.is_known_url(AMP) and not corpus.is_known_url(CANON)
    assert corpus.add_article(_variant(CANON, PAGE)).status == "known"
    corpus.finish_crawl("finished", {})
    corpus.close()
    assert _state(path) == ([(CANON, CANON, PAGE)], 0, [(AMP, "url")])


def _raw(url: str, text: str, published: str | None) -> object:
    page = f"<html><body><p>{text}</p><!-- {url} --></body></html>".encode()
    return article(
        url, text, published, title=url.rsplit("/", 1)[1], raw=page, fetched_at=published
    )


def _pages(path: Path) -> tuple:
    conn = sqlite3.connect(path)
    pages = tuple(conn.execute("SELECT url, fetched_url, body, fetched_at FROM pages ORDER BY url"))
    missing = conn.execute(
        "SELECT count(*) FROM articles WHERE url NOT IN (SELECT url FROM pages)"
    ).fetchone()[0]
    conn.close()
    return pages, missing


@pytest.mark.parametrize("batch_size", [1, 200])
def test_every_article_has_its_raw_page_and_the_pages_are_the_same_in_any_order(
    tmp_path: Path, batch_size: int
) -> None:
    text_b = CHAIN["https://n.example/b"][0]
    pages = [
        ("https://n.example/a", *CHAIN["https://n.example/a"]),
        # B is published first: whoever comes first, B is kept, the others are its copies
        ("https://n.example/e", text_b.upper(), "2025-03-01T00:00:00+00:00"),
        ("https://n.example/b", text_b, "2025-03-01T00:00:00+00:00"),
        ("https://n.example/c", *CHAIN["https://n.example/c"]),
    ]
    seen = set()
    for n, order in enumerate(itertools.permutations(pages)):
        path = tmp_path / f"p{n}.db"
        corpus = Corpus(path, batch_size=batch_size)
        corpus.start_crawl("files", {})
        for url, text, published in order:
            corpus.add_article(_raw(url, text, published))
        corpus.finish_crawl("finished", {})
        corpus.close()
        found, missing = _pages(path)
        assert missing == 0, order  # a copy the settle kept has its raw page
        seen.add((snapshot(path), found))
    assert len(seen) == 1
    (arts, _, _, _), found = seen.pop()
    assert [u for u, _ in arts] == ["https://n.example/b"]
    # the pages of the copies are kept too (any of them may be the one kept)
    assert [p[0] for p in found] == [f"https://n.example/{x}" for x in "abce"]


@pytest.mark.parametrize("batch_size", [1, 200])
def test_the_raw_page_kept_is_that_of_the_article_s_own_address_in_any_order(
    tmp_path: Path, batch_size: int
) -> None:
    def fetched(url: str, text: str) -> object:
        return article(CANON, text, "2025-03-02T10:00:00+00:00", fetched_url=url, raw=url.encode())

    pages = [fetched(CANON, PAGE), fetched(AMP, AMP_PAGE), fetched(AMP + "?utm=x", PAGE)]
    for n, order in enumerate(itertools.permutations(pages)):
        path = tmp_path / f"r{n}.db"
        crawl_articles(path, order, batch_size=batch_size)
        conn = sqlite3.connect(path)
        found = conn.execute("SELECT url, fetched_url, body FROM pages").fetchall()
        conn.close()
        assert found == [(CANON, CANON, CANON.encode())], [p.fetched_url for p in order]


@pytest.mark.parametrize("batch_size", [1, 200])
def test_texts_of_one_article_from_other_addresses_give_one_text_in_any_order(
    tmp_path: Path, batch_size: int
) -> None:
    # (the best address is /a/, then /m/, then /z/: none is the article's own)
    pages = [
        article(CANON, words(21, 150), None, fetched_url="https://n.example/m/story"),
        article(
            CANON,
            words(22, 150),
            "2025-03-01T10:00:00+00:00",
            fetched_url="https://n.example/a/story",
        ),
        article(
            CANON,
            words(23, 150),
            "2025-03-02T10:00:00+00:00",
            fetched_url="https://n.example/z/story",
        ),
    ]
    seen = set()
    for n, order in enumerate(itertools.permutations(pages)):
        path = tmp_path / f"t{n}.db"
        crawl_articles(path, order, batch_size=batch_size)
        arts, versions, _ = _state(path)
        seen.add((arts[0], versions))
    # a dated text ranks above an undated one, then the later date (then the
    # article's own address, then the content hash): the text of 2 March, from
    # the worst address, in every order
    # (and no version: the crawl stored the others itself)
    assert seen == {((CANON, "https://n.example/z/story", words(23, 150)), 0)}


@pytest.mark.parametrize("batch_size", [1, 200])
def test_undated_texts_from_other_addresses_do_not_let_the_addresses_decide(
    tmp_path: Path, batch_size: int
) -> None:
    """Three undated texts of one article, none from its own address, each run
    fetching them from addresses named by arrival (as files in a folder named
    00000.html, 00001.html, ...): the same text is kept in every order."""
    texts = [words(31, 150), words(32, 150), words(33, 150)]
    seen = set()
    for n, order in enumerate(itertools.permutations(texts)):
        path = tmp_path / f"u{n}.db"
        named = [
            article(CANON, text, None, fetched_url=f"file:///pages/{k:05d}.html")
            for k, text in enumerate(order)
        ]
        crawl_articles(path, named, batch_size=batch_size)
        arts, versions, _ = _state(path)
        seen.add((arts[0][2], versions))
    assert len(seen) == 1, seen
