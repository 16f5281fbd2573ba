"""The Datasette plugin (crawler.browse) through Datasette's own test client:
metadata, canned queries and hidden tables for a corpus of any file name and
for several corpora at once; the stories list, a story page, the crawl health
page; links to story pages; escaping of hostile titles and texts."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import sqlite_utils
from datasette.app import Datasette

from crawler.browse import render
from crawler.browse.corpora import project_metadata
from crawler.browse.queries import fts_query
from tests.helpers import SEEDS
from tests.helpers import scrapy_crawl as crawl

HOSTILE = '<script>alert("x")</script> Kyiv <b>counts</b> drones'
SHARED = (
    "US State Department Thursday voiced concern over expanding ties between Russia and "
    'Iran, calling it a "deepening alliance" after Tehran\'s drone supplies to Moscow.'
)


def _page(site: str, title: str, published: str, paragraphs: list[str]) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<html><head><title>{title}</title>"
        f'<meta property="og:site_name" content="{site}">'
        f'<meta property="article:published_time" content="{published}"></head><body>'
        f"<article><h1>{title}</h1>{body}</article></body></html>"
    )


def write_sources(folder: Path) -> Path:
    """The seeds, two more outlets' coverage of their story (one with a
    hostile title and text, one sharing a sentence of seed 004), an exact
    copy of one of them (a duplicate) and a page that fails (empty)."""
    folder.mkdir(parents=True, exist_ok=True)
    for seed in sorted(SEEDS.glob("*.txt")):
        shutil.copy(seed, folder / seed.name)
    other = _page(
        "Other Outlet",
        "Washington worried by Russia and Iran drone ties",
        "2022-12-09T10:00:00Z",
        [
            f"{SHARED} Washington is worried by the drone deliveries from Tehran.",
            "The State Department spokesman Ned Price spoke of a deepening alliance between "
            "Iran and Russia, as Iranian drones keep striking Ukrainian energy infrastructure.",
            "Analysts in Kyiv say the drones have hit power stations across the country this "
            "month and more deliveries from Iran to Russia are expected soon.",
        ],
    )
    (folder / "zz_other_outlet.html").write_text(other, encoding="utf-8")
    (folder / "zz_other_outlet_copy.html").write_text(other, encoding="utf-8")
    hostile = _page(
        "Hostile &lt;i&gt;Outlet&lt;/i&gt;",
        HOSTILE.replace("<", "&lt;").replace(">", "&gt;"),
        "2022-12-10T08:30:00Z",
        [
            "Ned Price, the State Department spokesman, said Iran and Russia have a deepening "
            "alliance as Iranian drones strike Ukrainian power stations and cities.",
            "&lt;img src=x onerror=alert(1)&gt; The drone deliveries from Iran to Russia worry "
            "Washington, Price told reporters at his briefing on Thursday.",
            "Officials in Kyiv said the strikes on the energy infrastructure caused blackouts "
            "across the country as more Iranian drones reached Russia this month.",
        ],
    )
    (folder / "zz_hostile.html").write_text(hostile, encoding="utf-8")
    (folder / "zz_empty.html").write_text("<html><body></body></html>", encoding="utf-8")
    return folder


def crawled(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    folder = write_sources(tmp_path_factory.mktemp("in"))
    db_path = tmp_path_factory.mktemp("ds") / name
    result = crawl("files", db_path, path=str(folder))
    assert result.returncode == 0, result.stderr[-2000:]
    return db_path


@pytest.fixture(scope="module")
def news_db(tmp_path_factory):
    return crawled(tmp_path_factory, "news.db")


def biggest_story(db_path: Path) -> int:
    return (
        sqlite_utils.Database(db_path)
        .execute("select story_id from articles group by story_id order by count(*) desc, 1")
        .fetchone()[0]
    )


async def _datasette(*paths: Path) -> Datasette:
    ds = Datasette([str(p) for p in paths])
    await ds.invoke_startup()
    return ds


@pytest.mark.e2e
async def test_metadata_queries_and_hidden_tables_for_any_file_name(news_db):
    ds = await _datasette(news_db)
    r = await ds.client.get("/news/failures")
    assert r.status_code == 200
    assert "Every URL or file that did not become an article" in r.text
    r = await ds.client.get("/news.json")
    data = r.json()
    queries = {q["name"] for q in data["queries"]}
    assert set(project_metadata()["corpus"]["queries"]) <= queries
    hidden = {t["name"] for t in data["tables"] if t["hidden"]}
    assert {"neardup_fingerprints", "story_terms", "article_features", "pages"} <= hidden
    assert {"story_terms_new", "_sqlite_migrations", "corpus_state"} <= hidden
    visible = {t["name"] for t in data["tables"] if not t["hidden"]}
    assert {"articles", "stories", "duplicates", "failures", "crawls"} <= visible
    r = await ds.client.get("/news/search.json?q=drones&_shape=array")
    assert r.status_code == 200 and len(r.json()) >= 2
    r = await ds.client.get("/-/metadata.json")
    assert r.status_code == 200


@pytest.mark.e2e
async def test_several_corpora_and_a_database_that_is_not_one(news_db, tmp_path):
    second = tmp_path / "second corpus.db"
    shutil.copy(news_db, second)
    plain = tmp_path / "plain.db"
    sqlite_utils.Database(plain)["notes"].insert({"id": 1, "story_id": 3, "title": "x"})
    ds = await _datasette(news_db, second, plain)
    names = [d["name"] for d in (await ds.client.get("/.json")).json().values()]
    assert {"news", "second corpus", "plain"} <= set(names)
    for name in ("news", "second corpus"):
        r = await ds.client.get(ds.urls.table(name, "articles"))
        assert r.status_code == 200 and "One row per unique article" in r.text
        why = ds.urls.query(name, "why_not_in_corpus", format="json")
        r = await ds.client.get(f"{why}?url=empty&_shape=array")
        assert r.status_code == 200 and r.json()[0]["found_in"] == "failure"
    plain_data = (await ds.client.get("/plain.json")).json()
    assert plain_data["queries"] == []
    r = await ds.client.get("/plain/notes")
    assert r.status_code == 200 and "/-/story/" not in r.text
    # without ?db= the pages ask which corpus; with it they show that one
    r = await ds.client.get("/-/stories")
    assert r.status_code == 200 and "?db=second+corpus" in r.text and "?db=plain" not in r.text
    r = await ds.client.get("/-/stories?db=second+corpus")
    assert r.status_code == 200 and 'data-story-id="' in r.text
    assert f"/-/story/{biggest_story(second)}?db=second+corpus" in r.text
    assert (await ds.client.get("/-/stories?db=plain")).status_code == 404
    story = biggest_story(news_db)
    r = await ds.client.get(f"/-/story/{story}?db=news")
    assert r.status_code == 200 and r.text.count('class="nc-article"') == 4
    # each corpus's page links to its own stories and health pages
    r = await ds.client.get(ds.urls.database("second corpus"))
    assert "/-/stories?db=second+corpus" in r.text and "/-/crawl-health?db=second+corpus" in r.text


@pytest.mark.e2e
async def test_stories_list_largest_first_with_outlets_dates_and_chart(news_db):
    ds = await _datasette(news_db)
    r = await ds.client.get("/-/stories")
    assert r.status_code == 200
    ids = re.findall(r'<tr data-story-id="(\d+)"', r.text)
    counts = dict(
        sqlite_utils.Database(news_db).execute("select id, article_count from stories").fetchall()
    )
    assert [int(i) for i in ids] == sorted(counts, key=lambda i: (-counts[i], i))
    first_row = r.text.split(f'<tr data-story-id="{ids[0]}"')[1].split("</tr>")[0]
    assert "Other Outlet" in first_row and "2022-12-09T10:00:00" in first_row
    assert "2022-12-10T08:30:00" in first_row and "<rect" in first_row
    assert "Hostile &lt;i&gt;Outlet&lt;/i&gt;" in first_row
    r = await ds.client.get("/-/stories?q=Patrushev")
    assert re.findall(r'<tr data-story-id="(\d+)"', r.text) == [ids[0]]
    r = await ds.client.get('/-/stories?q=nothing+like+this+"AND"+OR')
    assert r.status_code == 200 and "data-story-id" not in r.text


@pytest.mark.e2e
async def test_story_page_side_by_side_marks_timeline_duplicates(news_db):
    ds = await _datasette(news_db)
    story = biggest_story(news_db)
    r = await ds.client.get(f"/-/story/{story}")
    assert r.status_code == 200
    db = sqlite_utils.Database(news_db)
    ids = [
        row[0]
        for row in db.execute(
            "select id from articles where story_id = ? order by published is null, published, id",
            [story],
        )
    ]
    assert re.findall(
        r'<article class="nc-article" id="article-\d+" data-article-id="(\d+)"', r.text
    ) == [str(i) for i in ids]
    columns = dict(zip(ids, r.text.split('<article class="nc-article"')[1:], strict=True))
    other = db.execute("select id from articles where site = 'Other Outlet'").fetchone()[0]
    marked = re.findall(r"<mark>(.*?)</mark>", columns[other])
    assert len(marked) == 1 and "deepening alliance" in marked[0]
    assert (
        "zz_other_outlet_copy.html" in columns[other] and 'data-duplicate-kind="' in columns[other]
    )
    # the timeline: one dot per dated article
    svg = r.text.split('<svg class="nc-timeline"')[1].split("</svg>")[0]
    dated = [
        i
        for (i,) in db.execute(
            "select id from articles where story_id = ? and published is not null", [story]
        )
    ]
    assert sorted(int(i) for i in re.findall(r'data-article-id="(\d+)"', svg)) == sorted(dated)
    assert f'href="/news/articles/{other}"' in columns[other]
    # hostile input is shown as text, never as markup
    assert "<script>alert" not in r.text and "<img" not in r.text and "<b>counts" not in r.text
    assert "&lt;script&gt;alert(" in r.text and "&lt;img src=x" in r.text
    assert "<i>Outlet" not in r.text and "Hostile &lt;i&gt;Outlet&lt;/i&gt;</text>" in svg
    assert (await ds.client.get("/-/story/999999")).status_code == 404


@pytest.mark.e2e
async def test_links_to_story_pages_from_articles_and_search(news_db):
    ds = await _datasette(news_db)
    story = biggest_story(news_db)
    r = await ds.client.get("/news/articles")
    assert f'href="/-/story/{story}"' in r.text
    r = await ds.client.get("/news/articles?_search=Patrushev")
    assert f'href="/-/story/{story}"' in r.text
    r = await ds.client.get("/news/search?q=Patrushev")
    assert f'href="/-/story/{story}"' in r.text
    r = await ds.client.get("/news/stories")
    assert f'href="/-/story/{story}"' in r.text
    assert "<script>alert" not in r.text


@pytest.mark.e2e
async def test_crawl_health_page(news_db):
    ds = await _datasette(news_db)
    r = await ds.client.get("/-/crawl-health")
    assert r.status_code == 200
    stages = {s for (s,) in sqlite_utils.Database(news_db).execute("select stage from failures")}
    assert stages and all(f'data-stage="{s}"' in r.text for s in stages)
    assert 'data-site=""' in r.text  # the local files have no host
    assert 'action="/news/why_not_in_corpus"' in r.text and 'name="url"' in r.text
    r = await ds.client.get("/news/why_not_in_corpus.json?url=zz_empty&_shape=array")
    assert [row["found_in"] for row in r.json()] == ["failure"]


def test_fts_query_takes_operators_literally():
    assert fts_query('drones "deepening alliance" OR') == '"drones" "deepening alliance" "OR"'
    assert fts_query('"*" -') is None


def test_marked_paragraphs_and_per_day_bars():
    from crawler.stories.grouping import sentence_key

    key = sentence_key("The second sentence is shared here.")
    paras = render.marked_paragraphs(
        "First sentence is not shared. The second sentence is shared here.\n\nNext one.",
        {key},
    )
    assert [[s.shared for s in p] for p in paras] == [[False, True], [False]]
    bars = render.per_day_bars({"2022-01-01": 2, "2022-01-03": 4})
    assert [b["h"] for b in bars.bars] == [12.0, 24.0] and len(bars.bars) == 2
    many = render.per_day_bars({f"2022-{m:02d}-01": 1 for m in range(1, 13)}, most=60)
    assert len(many.bars) == 12 and all(b["x"] < many.width for b in many.bars)


@pytest.mark.e2e
async def test_the_old_metadata_option_still_works(news_db):
    """``datasette news.db -m crawler/metadata.yml``, as earlier READMEs said."""
    import yaml

    from tests.helpers import ROOT

    meta = yaml.safe_load((ROOT / "crawler" / "metadata.yml").read_text(encoding="utf-8"))
    ds = Datasette([str(news_db)], metadata=meta)
    await ds.invoke_startup()
    r = await ds.client.get("/news/articles")
    assert r.status_code == 200 and "One row per unique article" in r.text
    assert (await ds.client.get(f"/-/story/{biggest_story(news_db)}")).status_code == 200
    assert "News corpus" in (await ds.client.get("/")).text


def test_timeline_lanes_are_capped_and_later_is_further_right():
    articles = [
        {"id": i, "site": f"Outlet {i % 40}", "published": f"2024-01-{1 + i % 28:02d}T10:00:00Z"}
        for i in range(200)
    ] + [{"id": 999, "site": "X", "published": None}]
    t = render.timeline(articles)
    assert len(t.lanes) == render.LANES_MAX and t.lanes[-1]["site"] == "(17 other outlets)"
    assert len(t.points) == 200 and [a["id"] for a in t.undated] == [999]
    x = {p["id"]: p["x"] for p in t.points}
    assert x[0] < x[1] < x[27] and all(p["y"] <= t.height for p in t.points)


def test_timeline_svg_escapes_what_comes_from_the_corpus():
    t = render.timeline(
        [
            {"id": 1, "site": '<script>x</script>"', "published": "2024-01-01T10:00:00Z"},
            {"id": 2, "site": "B", "published": "2024-01-02T10:00:00Z"},
        ]
    )
    svg = str(render.timeline_svg(t, lambda aid: f'/db/articles/{aid}?"<', {2}))
    assert "<script>" not in svg and "&lt;script&gt;x&lt;/script&gt;&#34;" in svg
    assert 'href="/db/articles/1?&#34;&lt;"' in svg and 'href="#article-2"' in svg
    assert svg.count("<circle") == 2 and 'class="dot shown" data-article-id="2"' in svg


@pytest.mark.e2e
def test_search_works_on_a_corpus_without_the_story_pages_indexes(news_db, tmp_path):
    """A corpus crawled before m009, opened read-only by Datasette."""
    import sqlite3

    from crawler.browse.queries import stories_page

    old = tmp_path / "old.db"
    shutil.copy(news_db, old)
    conn = sqlite3.connect(old)
    with_index = stories_page(conn, "Patrushev")
    conn.execute("DROP INDEX idx_articles_id_story_id")
    conn.execute("DROP INDEX idx_articles_story_id_published_site")
    without = stories_page(conn, "Patrushev")
    conn.close()
    assert (
        [s.id for s in without.stories]
        == [s.id for s in with_index.stories]
        == [biggest_story(news_db)]
    )
    assert without.stories[0].outlets == with_index.stories[0].outlets


async def test_a_database_that_becomes_a_corpus_is_recognised(tmp_path):
    """Datasette started on a new file, the first crawl creating the tables later."""
    from crawler.browse import corpora
    from crawler.storage.corpus import open_database

    path = tmp_path / "later.db"
    sqlite_utils.Database(path)["placeholder"].insert({"id": 1})
    ds = await _datasette(path)
    assert (await ds.client.get("/later.json")).json()["queries"] == []
    open_database(path).close()
    corpora.state(ds).recheck_seconds = 0.0
    data = (await ds.client.get("/later.json")).json()
    assert {q["name"] for q in data["queries"]} >= {"search", "why_not_in_corpus"}
