"""The story view in Datasette: a story's articles side by side, shared sentences."""

from __future__ import annotations

import pytest
import sqlite_utils
from datasette.app import Datasette

from tests.helpers import ROOT, SEEDS, scrapy_crawl

pytestmark = pytest.mark.e2e

METADATA = ROOT / "crawler" / "metadata.yml"


@pytest.fixture(scope="module")
def corpus_db(tmp_path_factory):
    folder = tmp_path_factory.mktemp("in")
    for seed in sorted(SEEDS.glob("*.txt")):
        (folder / seed.name).write_text(seed.read_text(encoding="utf-8"), encoding="utf-8")
    # A third outlet takes one sentence of seed 004 word for word (quotes and case aside).
    quote = (
        "US State Department Thursday voiced concern over expanding ties between Russia and "
        'Iran, calling it a "deepening alliance" after Tehran\'s drone supplies to Moscow.'
    )
    (folder / "zz_other_outlet.html").write_text(
        "<html><head><title>Washington worried by Russia and Iran drone ties</title>"
        '<meta property="og:site_name" content="Other Outlet">'
        '<meta property="article:published_time" content="2022-12-09T10:00:00Z"></head><body>'
        "<article><h1>Washington worried by Russia and Iran drone ties</h1>"
        f"<p>{quote} Washington is worried by the drone deliveries from Tehran.</p>"
        "<p>The State Department spokesman Ned Price spoke of a deepening alliance between Iran "
        "and Russia, as Iranian drones keep striking Ukrainian energy infrastructure.</p>"
        "<p>Analysts in Kyiv say the drones have hit power stations across the country this "
        "month and more deliveries from Iran to Russia are expected soon.</p>"
        "</article></body></html>",
        encoding="utf-8",
    )
    db_path = tmp_path_factory.mktemp("ds") / "corpus.db"
    result = scrapy_crawl("files", db_path, path=str(folder))
    assert result.returncode == 0, result.stderr[-2000:]
    return db_path


@pytest.fixture
async def ds(corpus_db):
    # no metadata file: the plugin (crawler.browse) applies it to any corpus
    datasette = Datasette([str(corpus_db)])
    await datasette.invoke_startup()
    return datasette


async def test_story_query_lists_the_articles_side_by_side(ds, corpus_db):
    story_id = (
        sqlite_utils.Database(corpus_db)
        .execute("select story_id from articles group by story_id order by count(*) desc")
        .fetchone()[0]
    )
    r = await ds.client.get(f"/corpus/story.json?id={story_id}&_shape=array")
    assert r.status_code == 200
    rows = r.json()
    assert len(rows) == 3
    assert {"outlet", "published", "title", "text", "shared_sentences", "own_sentences"} <= set(
        rows[0]
    )
    other = next(row for row in rows if row["outlet"] == "Other Outlet")
    assert other["shared_sentences"] == 1 and other["own_sentences"] >= 3


async def test_sentences_marked_shared_or_own(ds, corpus_db):
    story_id = (
        sqlite_utils.Database(corpus_db)
        .execute("select story_id from articles where site = 'Other Outlet'")
        .fetchone()[0]
    )
    r = await ds.client.get(f"/corpus/story_sentences_side_by_side.json?id={story_id}&_shape=array")
    assert r.status_code == 200
    rows = r.json()
    shared = [row for row in rows if row["status"] == "shared"]
    # the quoted sentence, once in each of the two outlets that have it
    assert len(shared) == 2
    assert {row["outlet"] for row in shared} >= {"Other Outlet"}
    assert all("deepening alliance" in row["sentence"] for row in shared)
    assert any(row["status"] == "only this outlet" for row in rows)
