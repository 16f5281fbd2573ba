"""Site profiles: chrome learnt from several pages of one template, applied to
later pages of the site and, through ``scrapy reclean``, to earlier ones."""

from __future__ import annotations

import shutil

import pytest

from tests.helpers import FIXTURES, crawl_stats, run_scrapy, scrapy_crawl

pytestmark = pytest.mark.e2e

SITE = FIXTURES / "site-profile"
STANDING = "The Valley Post is an independent, reader-funded newsroom"
PITCH = "Our reporting stays free to read because hundreds of local readers chip in"
PAGES = sorted(SITE.glob("*.html"))


def texts(result):
    return {
        r["url"].rsplit("/", 1)[1]: r["text"] for r in result.rows("select url, text from articles")
    }


def test_learnt_profile_removes_standing_lines_from_earlier_and_later_pages(tmp_path):
    first, later = tmp_path / "first", tmp_path / "later"
    first.mkdir()
    later.mkdir()
    for page in PAGES[:4]:
        shutil.copy(page, first / page.name)
    shutil.copy(PAGES[4], later / PAGES[4].name)
    db = tmp_path / "corpus.db"

    # The generic cleaner keeps these lines: they read like prose.
    generic = texts(
        scrapy_crawl(
            "files",
            tmp_path / "generic.db",
            path=str(first),
            settings={"CLEAN_SITE_PROFILES": False},
        )
    )
    assert len(generic) == 4
    assert all(STANDING in t and PITCH in t for t in generic.values())

    one = scrapy_crawl("files", db, path=str(first))
    assert one.returncode == 0
    stats = crawl_stats(one)
    assert stats["corpus/site_profile_lines"] >= 2
    profile = one.rows("select host, pages, lines from site_profiles")
    assert [(p["host"], p["pages"]) for p in profile] == [("www.valleypost.test", 4)]
    # Learnt at the end of the crawl, and taken out of the pages it stored:
    # real paragraphs all stay, only the two standing lines go.
    assert stats["corpus/site_profiles/texts_stripped"] == 4
    before = texts(one)
    for name, text in generic.items():
        assert before[name].split("\n") == text.split("\n")[:-2]
    # The full-text index and the word counts follow.
    hits = one.rows(
        "select count(*) n from articles_fts where articles_fts match '\"reader-funded newsroom\"'"
    )
    assert hits[0]["n"] == 0
    assert all(
        r["word_count"] == len(r["text"].split())
        for r in one.rows("select text, word_count from articles")
    )

    two = scrapy_crawl("files", db, path=str(later))
    assert two.returncode == 0
    new = texts(two)[PAGES[4].stem]
    assert STANDING not in new and PITCH not in new
    assert new.startswith("Hollins primary school will get a new roof this summer")
    assert new.endswith("from the national programme next year.")
    assert "corpus/site_profiles/texts_stripped" not in crawl_stats(two)  # cleaned without them

    # Re-cleaning the stored pages with the profile finds nothing left to change.
    proc = run_scrapy("reclean", "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    assert "re-cleaned 5 stored pages: 0 texts changed, 5 unchanged" in proc.stdout


def test_profiles_can_be_turned_off(tmp_path):
    db = tmp_path / "corpus.db"
    result = scrapy_crawl("files", db, path=str(SITE), settings={"CLEAN_SITE_PROFILES": False})
    assert result.returncode == 0
    assert result.rows("select count(*) n from site_profiles")[0]["n"] == 0
    assert all(STANDING in t for t in texts(result).values())


def test_raw_pages_are_kept_compressed_unless_turned_off(tmp_path):
    kept = scrapy_crawl("files", tmp_path / "a.db", path=str(SITE))
    rows = kept.rows("select length(body) n, fetched_url from pages")
    assert len(rows) == 5
    assert all(
        0 < r["n"] < (SITE / r["fetched_url"].rsplit("/", 1)[1]).stat().st_size for r in rows
    )
    off = scrapy_crawl(
        "files", tmp_path / "b.db", path=str(SITE), settings={"CORPUS_KEEP_RAW": False}
    )
    assert off.rows("select count(*) n from pages")[0]["n"] == 0
    proc = run_scrapy("reclean", "--db", str(tmp_path / "b.db"))
    assert proc.returncode == 0 and "re-cleaned 0 stored pages" in proc.stdout


def test_reclean_reads_the_corpus_in_chunks(tmp_path):
    from crawler.extract.processing import Options
    from crawler.storage.reclean import reclean

    db = tmp_path / "corpus.db"
    assert scrapy_crawl("files", db, path=str(FIXTURES)).returncode == 0
    import sqlite3

    # (duplicates keep their raw page too, for the settle: reclean reads the articles')
    with_pages = (
        sqlite3.connect(db)
        .execute("select count(*) from pages where url in (select url from articles)")
        .fetchone()[0]
    )
    assert with_pages > 5
    report = reclean(db, Options(), chunk=2, dry_run=True)
    assert report.pages == with_pages  # every chunk was read, none twice
    one_site = reclean(db, Options(), chunk=2, site="www.valleypost.test", dry_run=True)
    assert one_site.pages == 5


WORDS = (
    "harbour council budget pension clinic bridge stadium rentals pollution nurses tram "
    "flights turbines flooded steel curfew orchard library ferry quarry brewery museum "
    "festival hospital reservoir railway cathedral vineyard lighthouse market"
).split()


def _article_page(i: int) -> str:
    """A page of the Valley Post with its two standing lines and text of its own."""
    import random

    rng = random.Random(i)
    topic = rng.sample(WORDS, 3)
    paragraphs = [
        " ".join(
            f"The {topic[k % 3]} plan number {i} was discussed by {rng.choice(WORDS)} "
            f"officials on day {k + 3 * p} of the {rng.choice(WORDS)} review."
            for k in range(3)
        )
        for p in range(4)
    ]
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8">
<title>Story {i} about the {topic[0]} - The Valley Post</title>
<meta property="og:title" content="Story {i} about the {topic[0]}">
<meta property="og:site_name" content="The Valley Post">
<meta property="article:published_time" content="2025-03-{1 + i % 28:02d}T08:00:00+00:00">
<link rel="canonical" href="https://www.valleypost.test/news/story-{i}">
</head><body><div class="story"><h1>Story {i} about the {topic[0]}</h1>
{body}
<p class="about">{STANDING} that has covered the three valley towns since 1998.</p>
<p class="support">{PITCH} a few pounds each month.</p>
</div></body></html>"""


@pytest.mark.parametrize("workers", [2, 0])
def test_profile_learnt_during_the_crawl_cleans_later_pages_and_earlier_ones(tmp_path, workers):
    """A first crawl of a site learns its chrome after a few pages: the pages
    stored before lose those lines, the cleaning (in the worker processes, or
    in the crawl's own) removes them from the pages after."""
    site = tmp_path / "site"
    site.mkdir()
    n = 30
    for i in range(n):
        (site / f"story-{i:02d}.html").write_text(_article_page(i), encoding="utf-8")
    db = tmp_path / "corpus.db"
    result = scrapy_crawl(
        "files",
        db,
        path=str(site),
        settings={
            "CLEAN_WORKERS": workers,
            "CORPUS_BATCH_SIZE": 1,
            # one page at a time through the pipelines
            "CONCURRENT_REQUESTS": 1,
            "SCRAPER_SLOT_MAX_ACTIVE_SIZE": 1,
        },
    )
    assert result.returncode == 0, result.stderr
    stored = texts(result)
    assert len(stored) == n
    for name, text in stored.items():
        assert STANDING not in text and PITCH not in text, name
        assert len(text.split("\n")) == 4, name  # the article's own paragraphs all stay
    stats = crawl_stats(result)
    assert stats["corpus/site_profiles/learnt_in_crawl"] >= 1
    # Only the pages cleaned before the first lesson (at 5 stored articles),
    # and the few in flight then, had the lines and lost them afterwards.
    assert 5 <= stats["corpus/site_profiles/texts_stripped"] <= 10
    assert "Learnt 2 chrome lines of www.valleypost.test" in result.stderr


def test_reclean_dry_run_changes_nothing_and_a_real_one_keeps_the_indexes_in_step(tmp_path):
    """A corpus crawled without profiles, then re-cleaned with them: the dry run
    writes nothing (not even the profile), the real run updates the texts and
    the near-duplicate fingerprints and story terms that come from them."""
    import sqlite3

    from crawler.dedup import near as neardup

    db = tmp_path / "corpus.db"
    result = scrapy_crawl("files", db, path=str(SITE), settings={"CLEAN_SITE_PROFILES": False})
    assert result.returncode == 0
    before = texts(result)

    dry = run_scrapy("reclean", "--db", str(db), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "[dry run] re-cleaned 5 stored pages: 5 texts changed" in dry.stdout
    assert texts(result) == before
    assert result.rows("select count(*) n from site_profiles")[0]["n"] == 0

    proc = run_scrapy("reclean", "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    assert "re-cleaned 5 stored pages: 5 texts changed" in proc.stdout
    after = texts(result)
    assert all(STANDING not in t and PITCH not in t for t in after.values())
    conn = sqlite3.connect(db)
    for aid, text in conn.execute("select id, text from articles"):
        stored = {
            h
            for (h,) in conn.execute(
                "select hash from neardup_fingerprints where article_id = ? union all"
                " select hash from neardup_fingerprints_new where article_id = ?",
                [aid, aid],
            )
        }
        assert stored == neardup.sketch(text).fingerprints
        count = conn.execute(
            "select fingerprints from article_features where article_id = ?", [aid]
        ).fetchone()[0]
        assert count == len(stored)


def test_pages_cleaned_before_a_lesson_lose_its_lines_when_they_are_written(tmp_path):
    """Pages in flight when the corpus learns a site's lines were cleaned
    without them: the writer takes the lines out as they arrive, and their
    features (near-duplicate sketch, story terms) follow the clean text."""
    from crawler import features
    from crawler.dedup.exact import content_hash
    from crawler.extract.processing import LESSONS_ATTR
    from crawler.items import Article
    from crawler.storage.corpus import LEARN_AT, Corpus

    def article(i: int, lessons: int | None = None) -> Article:
        text = "\n".join(
            [
                f"The {w} report number {i} says the {w} budget rose for the {i}th time this year."
                for w in WORDS[i % 7 : i % 7 + 3]
            ]
            + [
                f"{STANDING} that has covered the three valley towns since 1998.",
                f"{PITCH} a few pounds each month.",
            ]
        )
        a = Article(
            url=f"https://www.valleypost.test/news/{i}",
            title=f"Report {i}",
            text=text,
            content_hash=content_hash(text),
            word_count=len(text.split()),
        )
        if lessons is not None:
            setattr(a, LESSONS_ATTR, lessons)
        return a

    corpus = Corpus(tmp_path / "c.db", batch_size=1)
    corpus.start_crawl("files", {})
    corpus.learn_during_crawl = True
    first = LEARN_AT[0]
    for i in range(first):
        assert corpus.add_article(article(i)).status == "stored"
    assert [host for host, _ in corpus.learnt] == ["www.valleypost.test"]  # lesson 1
    assert corpus.texts_stripped == first
    # cleaned before lesson 1 reached the cleaning: stripped on arrival
    late = article(first, lessons=0)
    assert corpus.add_article(late).status == "stored"
    assert corpus.texts_stripped == first + 1
    rows = corpus.db.execute("select text, word_count, content_hash from articles").fetchall()
    assert len(rows) == first + 1
    for text, words, digest in rows:
        assert STANDING not in text and PITCH not in text
        assert words == len(text.split()) and digest == content_hash(text)
    late_text = rows[-1][0]
    stored = {
        h
        for (h,) in corpus.db.execute(
            "select hash from neardup_fingerprints where article_id = ? union all"
            " select hash from neardup_fingerprints_new where article_id = ?",
            [first + 1, first + 1],
        )
    }
    assert stored == features.compute("", late_text).sketch.fingerprints
    corpus.close()


def test_an_unreadable_stored_profile_is_learnt_again_not_a_crash(tmp_path):
    import sqlite3

    db = tmp_path / "corpus.db"
    assert scrapy_crawl("files", db, path=str(SITE)).returncode == 0
    conn = sqlite3.connect(db)
    conn.execute("UPDATE site_profiles SET lines = '{\"broken'")
    conn.commit()
    conn.close()
    again = scrapy_crawl("files", db, path=str(SITE), settings={"CLEAN_WORKERS": 2})
    assert again.returncode == 0, again.stderr
    assert "Ignoring the unreadable site profile of www.valleypost.test" in again.stderr
    assert crawl_stats(again)["finish_reason"] == "finished"
    lines = again.rows("select lines from site_profiles")[0]["lines"]
    assert "reader-funded newsroom" in lines  # learnt again at the end of the crawl
