"""The corpus through Datasette's own test client, with the project's metadata (applied by the plugin)."""

from __future__ import annotations

import pytest
import yaml
from datasette.app import Datasette

from tests.helpers import ROOT, SEEDS, scrapy_crawl

pytestmark = pytest.mark.e2e

METADATA = ROOT / "crawler" / "metadata.yml"


@pytest.fixture(scope="module")
def corpus_db(tmp_path_factory):
    db_path = tmp_path_factory.mktemp("ds") / "corpus.db"
    result = scrapy_crawl("files", db_path, path=str(SEEDS))
    assert result.returncode == 0, result.stderr[-2000:]
    return db_path


@pytest.fixture
async def ds(corpus_db):
    # no metadata file: the plugin (crawler.browse) applies it to any corpus
    datasette = Datasette([str(corpus_db)])
    await datasette.invoke_startup()
    return datasette


def test_every_table_and_column_is_described(corpus_db):
    import sqlite_utils

    meta = yaml.safe_load(METADATA.read_text())["corpus"]["tables"]
    db = sqlite_utils.Database(corpus_db)
    for table in ("articles", "duplicates", "failures", "crawls", "stories"):
        described = set(meta[table]["columns"])
        assert set(db[table].columns_dict) <= described, table
        assert meta[table]["description"]


async def test_full_text_search(ds):
    r = await ds.client.get("/corpus/articles.json?_search=Patrushev&_shape=array")
    assert r.status_code == 200
    rows = r.json()
    assert len(rows) == 1 and "Patrushev" in rows[0]["text"]
    # "Talk Show" was only in seed 004's video-promo chrome, which is gone.
    none = await ds.client.get('/corpus/articles.json?_search="Talk Show"&_shape=array')
    assert none.status_code == 200 and none.json() == []


async def test_canned_search_query(ds):
    r = await ds.client.get("/corpus/search.json?q=drones&_shape=array")
    assert r.status_code == 200
    rows = r.json()
    assert len(rows) == 2
    assert all("[" in row["snippet"] for row in rows)


async def test_canned_crawl_report_and_per_site(ds):
    r = await ds.client.get("/corpus/crawl_report.json?crawl=&_shape=array")
    assert r.status_code == 200 and r.json() == []
    r = await ds.client.get("/corpus/articles_per_site_and_day.json?_shape=array")
    assert sum(row["articles"] for row in r.json()) == 2


async def test_table_descriptions_render(ds):
    r = await ds.client.get("/corpus/failures")
    assert r.status_code == 200
    assert "Every URL or file that did not become an article" in r.text
