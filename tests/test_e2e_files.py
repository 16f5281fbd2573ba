"""End to end: the real ``scrapy crawl files`` command into a temporary corpus."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.helpers import FIXTURES, SEEDS, crawl_stats, run_scrapy, scrapy_crawl

pytestmark = pytest.mark.e2e

SEED_CHROME = [
    "Share:",
    "G4 Protest Special",
    "Talk Show",
    "Share your story",
    "Send your Videos and Photos to us",
]


def test_seeds_become_two_clean_articles(db_path):
    result = scrapy_crawl("files", db_path, path=str(SEEDS))
    assert result.returncode == 0, result.stderr[-2000:]
    rows = result.rows("select url, title, text, story_id, content_hash from articles order by url")
    assert len(rows) == 2
    for row in rows:
        for chrome in SEED_CHROME:
            assert chrome not in row["text"].split("\n")
            assert chrome not in row["text"]
        assert row["story_id"] is not None
    first, second = (r["text"].split("\n") for r in rows)
    assert first[0].startswith("Ned Price, the spokesman")
    assert first[-1].endswith("new reality of international affairs.")
    assert second[0].startswith("US State Department Thursday voiced concern")
    assert second[-1].endswith("increase the public attention to the Iranian nuclear program.”")
    crawl_row = result.rows("select * from crawls")[0]
    assert crawl_row["spider"] == "files" and crawl_row["finish_reason"] == "finished"
    assert json.loads(crawl_row["args"]) == {"path": str(SEEDS)}
    assert crawl_stats(result)["corpus/articles/stored"] == 2
    assert result.rows("select count(*) n from failures")[0]["n"] == 0


def test_writing_on_the_reactor_stores_the_same_corpus(db_path, tmp_path):
    """CORPUS_WRITER_THREAD=False (the writer on Scrapy's reactor) and the
    default writer thread give the same rows for the same files."""
    folder = tmp_path / "in"
    shutil.copytree(FIXTURES / "text", folder)
    other = tmp_path / "thread.db"
    off = scrapy_crawl(
        "files",
        db_path,
        path=str(folder),
        settings={"CORPUS_WRITER_THREAD": False, "CLEAN_WORKERS": 0, "CONCURRENT_REQUESTS": 1},
    )
    on = scrapy_crawl(
        "files", other, path=str(folder), settings={"CLEAN_WORKERS": 0, "CONCURRENT_REQUESTS": 1}
    )
    assert off.returncode == 0 and on.returncode == 0, off.stderr[-1000:] + on.stderr[-1000:]
    query = "select url, title, text, story_id from articles order by url"
    assert off.rows(query) == on.rows(query)
    assert len(off.rows(query)) >= 5
    assert crawl_stats(off)["corpus/articles/stored"] == crawl_stats(on)["corpus/articles/stored"]


def test_second_crawl_adds_nothing_and_counts_what_it_knew(db_path):
    first = scrapy_crawl("files", db_path, path=str(SEEDS))
    assert first.returncode == 0
    second = scrapy_crawl("files", db_path, path=str(SEEDS))
    assert second.returncode == 0, second.stderr[-2000:]
    assert second.rows("select count(*) n from articles")[0]["n"] == 2
    assert second.rows("select count(*) n from crawls")[0]["n"] == 2
    stats = crawl_stats(second)
    assert stats["corpus/skipped/known"] == 2
    assert "corpus/articles/stored" not in stats


def test_same_text_under_another_name_is_an_exact_duplicate(db_path, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    src = SEEDS / "000_105da86cbff68d84.txt"
    shutil.copy(src, folder / "a.txt")
    shutil.copy(src, folder / "b-copy.txt")
    result = scrapy_crawl("files", db_path, path=str(folder))
    assert result.returncode == 0
    assert result.rows("select count(*) n from articles")[0]["n"] == 1
    dups = result.rows(
        "select d.fetched_url url, d.kind, a.fetched_url kept"
        " from duplicates d join articles a on a.id = d.article_id"
    )
    assert len(dups) == 1 and dups[0]["kind"] == "exact"
    assert {dups[0]["url"], dups[0]["kept"]} == {
        (folder / "a.txt").as_uri(),
        (folder / "b-copy.txt").as_uri(),
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-a", "path=/no/such/place"], "does not exist"),
        (["-a", "path=pyproject.toml"], "not a supported file"),
        (["-s", "CORPUS_DB=/no/such/folder/c.db"], "does not exist"),
    ],
)
def test_bad_arguments_exit_nonzero_with_one_line(args, message):
    proc = run_scrapy("crawl", "files", *args)
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert message in lines[0]


def test_unknown_spider_is_one_line():
    proc = run_scrapy("crawl", "no-such-spider")
    assert proc.returncode != 0
    assert "no spider named" in proc.stderr


def load_expectations(folder: Path) -> dict[Path, dict]:
    out = {}
    for meta in sorted(folder.glob("*.json")):
        pages = [p for p in folder.iterdir() if p.name.startswith(meta.stem + ".") and p != meta]
        assert len(pages) == 1, f"{meta} has no single page beside it: {pages}"
        out[pages[0]] = json.loads(meta.read_text())
    return out


@pytest.fixture(scope="module")
def fixture_corpus(tmp_path_factory):
    db_path = tmp_path_factory.mktemp("fixtures") / "corpus.db"
    result = scrapy_crawl("files", db_path, path=str(FIXTURES))
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def _article(result, path: Path) -> dict | None:
    rows = result.rows("select * from articles where fetched_url = ?", [path.resolve().as_uri()])
    return rows[0] if rows else None


PAGE_CASES = (
    sorted(load_expectations(FIXTURES / "pages").items()) if (FIXTURES / "pages").exists() else []
)
TEXT_CASES = (
    sorted(load_expectations(FIXTURES / "text").items()) if (FIXTURES / "text").exists() else []
)


def test_fixture_set_is_present():
    assert len(PAGE_CASES) >= 12 and len(TEXT_CASES) >= 8


@pytest.mark.parametrize(
    ("path", "expected"), PAGE_CASES + TEXT_CASES, ids=[p.name for p, _ in PAGE_CASES + TEXT_CASES]
)
def test_fixture(fixture_corpus, path, expected):
    if expected.get("duplicate_of"):
        dup = fixture_corpus.rows(
            "select * from duplicates where fetched_url = ?", [path.resolve().as_uri()]
        )
        assert dup and dup[0]["kind"] == "exact", f"{path.name} should be a duplicate"
        kept = fixture_corpus.rows(
            "select fetched_url from articles where id = ?", [dup[0]["article_id"]]
        )
        assert kept[0]["fetched_url"].rsplit("/", 1)[1].startswith(expected["duplicate_of"])
        return
    row = _article(fixture_corpus, path)
    if row is None:
        # Maybe the other copy of a duplicate pair was kept; anything else is a failure.
        fails = fixture_corpus.rows(
            "select reason from failures where url = ?", [path.resolve().as_uri()]
        )
        pytest.fail(f"{path.name} is not an article: {fails}")
    text = row["text"]
    for snippet in expected["must_contain"]:
        assert snippet in text, f"missing from {path.name}: {snippet!r}"
    for snippet in expected["must_not_contain"]:
        assert snippet not in text, f"chrome left in {path.name}: {snippet!r}"
    if expected.get("title"):
        assert row["title"] == expected["title"]
    for field in ("author", "site", "language"):
        if expected.get(field):
            assert (row[field] or "").casefold() == expected[field].casefold(), field
    if expected.get("published"):
        assert (row["published"] or "").startswith(expected["published"])


def test_bad_fixtures_are_failures(fixture_corpus):
    expected = json.loads((FIXTURES / "bad" / "expected.json").read_text())
    for name, words in expected.items():
        uri = (FIXTURES / "bad" / name).resolve().as_uri()
        rows = fixture_corpus.rows("select stage, reason from failures where url = ?", [uri])
        assert len(rows) == 1, f"{name}: {rows}"
        assert any(w in rows[0]["reason"] for w in words.split("|")), (name, rows[0])


def test_every_fixture_file_is_accounted_for(fixture_corpus):
    from crawler.spiders.files import list_files

    stats = crawl_stats(fixture_corpus)
    files = list_files(FIXTURES)
    assert stats["files/found"] == len(files)
    uris = {p.resolve().as_uri() for p in files}
    stored = {r["fetched_url"] for r in fixture_corpus.rows("select fetched_url from articles")}
    dups = {r["fetched_url"] for r in fixture_corpus.rows("select fetched_url from duplicates")}
    failed = {r["url"] for r in fixture_corpus.rows("select url from failures")}
    assert uris == stored | dups | failed
    assert not (stored & dups) and not (stored & failed) and not (dups & failed)


def test_cleaning_in_worker_processes_gives_the_same_corpus(tmp_path):
    in_pool = scrapy_crawl(
        "files", tmp_path / "pool.db", settings={"CLEAN_WORKERS": 2}, path=str(SEEDS)
    )
    inline = scrapy_crawl(
        "files", tmp_path / "inline.db", settings={"CLEAN_WORKERS": 0}, path=str(SEEDS)
    )
    assert in_pool.returncode == inline.returncode == 0
    assert crawl_stats(in_pool)["corpus/clean_workers"] == 2
    assert "corpus/clean_workers" not in crawl_stats(inline)
    sql = "select url, title, text, content_hash from articles order by url"
    assert in_pool.rows(sql) == inline.rows(sql)
    assert len(inline.rows(sql)) == 2


def test_progress_lines(tmp_path):
    import subprocess

    from tests.helpers import ROOT, scrapy_argv

    proc = subprocess.run(
        scrapy_argv(
            "crawl",
            "files",
            "-a",
            f"path={FIXTURES}",
            "-s",
            f"CORPUS_DB={tmp_path / 'c.db'}",
            "-s",
            "CORPUS_PROGRESS_INTERVAL=0.05",
            "-s",
            "CLEAN_WORKERS=0",
        ),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0
    progress = [
        line for line in proc.stderr.splitlines() if "[crawler.extensions.progress]" in line
    ]
    assert progress, proc.stderr[-2000:]
    last = progress[-1]
    assert "Finished (finished):" in last and " articles, " in last and " failures" in last
    assert all("pages/s" in line and "queued" in line for line in progress[:-1])


def _dated_page(title: str, body: str, published: str) -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in body.split("\n"))
    return (
        f"<html><head><title>{title}</title>"
        f'<meta property="article:published_time" content="{published}"></head>'
        f"<body><article><h1>{title}</h1>{paragraphs}</article></body></html>"
    )


def test_an_article_replaced_by_an_earlier_copy_is_counted_as_a_duplicate(tmp_path):
    """Stats and the progress line agree with the tables when a copy published
    earlier arrives after the article it replaces (it was counted as stored)."""
    import subprocess

    from tests.helpers import ROOT, scrapy_argv

    text = (SEEDS / "000_105da86cbff68d84.txt").read_text(encoding="utf-8").split("\n", 1)[1]
    folder = tmp_path / "in"
    folder.mkdir()
    # crawled in name order: each later file is an earlier-published copy
    (folder / "a.html").write_text(_dated_page("Talks", text, "2024-05-03T09:00:00Z"))
    (folder / "b.html").write_text(_dated_page("Talks", text, "2024-05-02T09:00:00Z"))
    (folder / "c.html").write_text(
        _dated_page("Talks", text + "\nReporting by the wire desk.", "2024-05-01T09:00:00Z")
    )
    db = tmp_path / "c.db"
    proc = subprocess.run(
        scrapy_argv(
            "crawl",
            "files",
            "-a",
            f"path={folder}",
            "-s",
            f"CORPUS_DB={db}",
            "-s",
            "CLEAN_WORKERS=0",
            "-s",
            "CONCURRENT_REQUESTS=1",
            "-s",
            "CORPUS_PROGRESS_INTERVAL=30",
        ),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    import sqlite_utils

    corpus = sqlite_utils.Database(db)
    assert [r["fetched_url"] for r in corpus.query("select fetched_url from articles")] == [
        (folder / "c.html").as_uri()
    ]
    assert {(r["fetched_url"], r["kind"]) for r in corpus.query("select * from duplicates")} == {
        ((folder / "a.html").as_uri(), "exact"),
        ((folder / "b.html").as_uri(), "near"),
    }
    stats = json.loads(next(corpus.query("select stats from crawls"))["stats"])
    assert stats["corpus/articles/stored"] == 3
    assert stats["corpus/replaced/exact"] == 1 and stats["corpus/replaced/near"] == 1
    assert stats["corpus/replaced_in_crawl"] == 2
    last = [line for line in proc.stderr.splitlines() if "Finished (finished):" in line][-1]
    assert "3 pages, 1 articles, 2 duplicates" in last, last


def test_a_later_crawl_replacing_a_stored_article_counts_only_what_it_wrote(tmp_path):
    """The replaced article was stored by the first crawl: the second crawl wrote
    one article and one duplicates row, and says so."""
    import subprocess

    import sqlite_utils

    from tests.helpers import ROOT, scrapy_argv

    text = (SEEDS / "000_105da86cbff68d84.txt").read_text(encoding="utf-8").split("\n", 1)[1]
    db = tmp_path / "c.db"
    runs = []
    for name, published in (("late", "2024-05-03T09:00:00Z"), ("early", "2024-05-01T09:00:00Z")):
        folder = tmp_path / name
        folder.mkdir()
        (folder / f"{name}.html").write_text(_dated_page("Talks", text, published))
        runs.append(
            subprocess.run(
                scrapy_argv(
                    "crawl",
                    "files",
                    "-a",
                    f"path={folder}",
                    "-s",
                    f"CORPUS_DB={db}",
                    "-s",
                    "CLEAN_WORKERS=0",
                ),
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=120,
            )
        )
        assert runs[-1].returncode == 0, runs[-1].stderr[-2000:]
    corpus = sqlite_utils.Database(db)
    rows = {
        r["crawl_id"]: r
        for r in corpus.query("select crawl_id, count(*) n from articles group by crawl_id")
    }
    dups = {
        r["crawl_id"]: r["n"]
        for r in corpus.query("select crawl_id, count(*) n from duplicates group by crawl_id")
    }
    assert rows[2]["n"] == 1 and dups == {2: 1} and 1 not in rows
    stats = json.loads(next(corpus.query("select stats from crawls where id = 2"))["stats"])
    assert stats["corpus/replaced/exact"] == 1 and "corpus/replaced_in_crawl" not in stats
    last = [line for line in runs[1].stderr.splitlines() if "Finished (finished):" in line][-1]
    assert "1 pages, 1 articles, 1 duplicates" in last, last
