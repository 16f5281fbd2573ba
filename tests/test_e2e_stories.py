"""End to end through ``scrapy crawl files``: stories and near-duplicates."""

from __future__ import annotations

import shutil

import pytest

from tests.helpers import SEEDS, run_scrapy, scrapy_crawl

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def seeds_corpus(tmp_path_factory):
    db_path = tmp_path_factory.mktemp("seeds") / "corpus.db"
    result = scrapy_crawl("files", db_path, path=str(SEEDS))
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def test_the_two_seeds_share_one_story_and_are_not_duplicates(seeds_corpus):
    rows = seeds_corpus.rows("select id, story_id from articles")
    assert len(rows) == 2
    assert rows[0]["story_id"] == rows[1]["story_id"]
    assert seeds_corpus.rows("select count(*) n from duplicates")[0]["n"] == 0
    story = seeds_corpus.rows("select * from stories")
    assert len(story) == 1 and story[0]["article_count"] == 2


def test_the_seeds_share_some_sentences_and_not_others(seeds_corpus):
    rows = seeds_corpus.rows(
        "select article_id, sum(outlets > 0) shared, sum(outlets = 0) only_here"
        " from story_sentences group by article_id"
    )
    assert len(rows) == 2
    assert all(r["only_here"] > 0 for r in rows)


def test_a_wire_copy_inside_a_longer_page_is_a_near_duplicate(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    seed = (SEEDS / "000_105da86cbff68d84.txt").read_text(encoding="utf-8")
    title, _, body = seed.partition("\n")
    shutil.copy(SEEDS / "000_105da86cbff68d84.txt", folder / "a-original.txt")
    longer = (
        f"{title}\n"
        "Our regional desk adds: the committee in the capital met on Tuesday evening to "
        "discuss the winter heating budget, which rose by a fifth since last year.\n"
        f"{body.strip()}\n"
        "In other news, the city marathon will close four bridges on Sunday morning, and "
        "the organisers expect twelve thousand runners and many more spectators.\n"
    )
    (folder / "b-embedded.txt").write_text(longer, encoding="utf-8")
    db_path = tmp_path / "c.db"
    # The original must reach the writer first: one file at a time, cleaned in order.
    result = scrapy_crawl(
        "files", db_path, path=str(folder), settings={"CONCURRENT_REQUESTS": 1, "CLEAN_WORKERS": 0}
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.rows("select count(*) n from articles")[0]["n"] == 1
    dups = result.rows("select kind, similarity, fetched_url from duplicates")
    assert len(dups) == 1 and dups[0]["kind"] == "near"
    assert dups[0]["fetched_url"].endswith("b-embedded.txt")
    assert dups[0]["similarity"] >= 0.8
    # A second crawl of other files still finds copies of what is stored.
    other = tmp_path / "later"
    other.mkdir()
    (other / "c-copy.txt").write_text(longer.replace("Tuesday", "Wednesday"), encoding="utf-8")
    again = scrapy_crawl("files", db_path, path=str(other))
    assert again.returncode == 0, again.stderr[-2000:]
    kinds = [r["kind"] for r in again.rows("select kind from duplicates order by id")]
    assert kinds == ["near", "near"]


def test_stories_rebuild_command(seeds_corpus):
    proc = run_scrapy("stories", "rebuild", "--db", str(seeds_corpus.db_path))
    assert proc.returncode == 0, proc.stderr
    assert "2 articles grouped into 1 stories" in proc.stdout
    rows = seeds_corpus.rows("select story_id from articles")
    assert len({r["story_id"] for r in rows}) == 1
    assert seeds_corpus.rows("select article_count from stories")[0]["article_count"] == 2
