"""``scrapy corpus export``: one record per article, JSONL, CSV and Parquet,
filters, the one-line errors (pyarrow missing), constant memory."""

from __future__ import annotations

import csv
import json
import sqlite3
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
import sqlite_utils

from crawler.storage.corpus import open_database
from crawler.storage.export import FIELDS, Filters, export
from tests.helpers import ROOT, run_scrapy
from tests.test_browse import crawled

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return crawled(tmp_path_factory, "export me.db")


def run_export(db: Path, out: Path, *args: str) -> subprocess.CompletedProcess:
    return run_scrapy("corpus", "export", "--db", str(db), "--out", str(out), *args)


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_jsonl_one_record_per_article_with_duplicates(corpus, tmp_path):
    out = tmp_path / "corpus.jsonl"
    result = run_export(corpus, out, "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    assert "Exported 4 articles" in result.stdout
    records = jsonl(out)
    db = sqlite_utils.Database(corpus)
    assert [r["id"] for r in records] == [r["id"] for r in db.query("select id from articles")]
    for record in records:
        assert tuple(record) == FIELDS
        row = db["articles"].get(record["id"])
        assert {k: record[k] for k in FIELDS if k != "duplicates"} == {
            k: row[k] for k in FIELDS if k != "duplicates"
        }
        # what datasets.load_dataset("json") needs: one type per field
        assert isinstance(record["duplicates"], list)
        assert all(isinstance(u, str) for u in record["duplicates"])
        assert record["published"] is None or isinstance(record["published"], str)
    other = next(r for r in records if r["site"] == "Other Outlet")
    assert [u.rsplit("/", 1)[1] for u in other["duplicates"]] == ["zz_other_outlet_copy.html"]
    assert sum(len(r["duplicates"]) for r in records) == db["duplicates"].count
    # hostile text survives as data
    assert any('<script>alert("x")</script>' in r["title"] for r in records)


def test_csv_and_parquet_hold_the_same_records(corpus, tmp_path):
    assert run_export(corpus, tmp_path / "all.jsonl", "--format", "jsonl").returncode == 0
    expected = jsonl(tmp_path / "all.jsonl")
    result = run_export(corpus, tmp_path / "all.csv", "--format", "csv")
    assert result.returncode == 0, result.stderr
    with (tmp_path / "all.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == FIELDS
    assert [r["text"] for r in rows] == [r["text"] for r in expected]
    assert [r["duplicates"].split() for r in rows] == [r["duplicates"] for r in expected]
    import pyarrow.parquet as pq

    result = run_export(corpus, tmp_path / "all.parquet", "--format", "parquet")
    assert result.returncode == 0, result.stderr
    table = pq.read_table(tmp_path / "all.parquet")
    assert table.column_names == list(FIELDS)
    assert table.to_pylist() == expected


def test_filters_since_site_story(corpus, tmp_path):
    out = tmp_path / "f.jsonl"
    assert run_export(corpus, out, "--format", "jsonl", "--since", "2022-12-10").returncode == 0
    assert [r["site"] for r in jsonl(out)] == ["Hostile <i>Outlet</i>"]
    assert run_export(corpus, out, "--format", "jsonl", "--site", "other outlet").returncode == 0
    assert [r["site"] for r in jsonl(out)] == ["Other Outlet"]
    story = sqlite_utils.Database(corpus).execute("select max(story_id) from articles").fetchone()
    assert run_export(corpus, out, "--format", "jsonl", "--story", str(story[0])).returncode == 0
    assert {r["story_id"] for r in jsonl(out)} == {story[0]}
    assert run_export(corpus, out, "--format", "jsonl", "--story", "999999").returncode == 0
    assert out.read_text() == ""


def test_site_matches_the_host_and_its_subdomains():
    keeps = Filters(site="example.com").keeps
    assert keeps({"site": "Example", "url": "https://www.example.com/a"})
    assert keeps({"site": None, "url": "http://example.com:8080/a"})
    assert not keeps({"site": None, "url": "https://notexample.com/a"})
    assert Filters(site="Example").keeps({"site": "example", "url": "file:///x"})


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--format", "jsonl", "--since", "last week"], "is not a date"),
        (["--format", "jsonl", "--db", "/nonexistent/corpus.db"], "no corpus at"),
        ([], "give --format"),
    ],
)
def test_errors_are_one_line(corpus, tmp_path, args, reason):
    out = tmp_path / "x.jsonl"
    result = run_scrapy("corpus", "export", "--db", str(corpus), "--out", str(out), *args)
    assert result.returncode == 2
    assert reason in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_parquet_without_pyarrow_says_how_to_install_it(corpus, tmp_path):
    out = tmp_path / "x.parquet"
    blocked = (
        "import sys; sys.modules['pyarrow'] = None; sys.argv = ['scrapy'] + sys.argv[1:];"
        " from scrapy.cmdline import execute; execute()"
    )
    result = subprocess.run(
        [sys.executable, "-c", blocked, "corpus", "export", "--db", str(corpus)]
        + ["--format", "parquet", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "pyarrow" in lines[0] and ".[parquet]" in lines[0]
    assert not out.exists()


def test_memory_stays_flat_on_a_larger_corpus(tmp_path):
    """1,000 articles of 20 kB (20 MB of text) export with a few MB at most."""
    path = tmp_path / "big.db"
    open_database(path).close()
    conn = sqlite3.connect(path)
    conn.execute("DROP TRIGGER IF EXISTS articles_ai")  # no FTS needed to export
    text = ("Lorem ipsum dolor sit amet. " * 720)[:20000]
    with conn:
        conn.executemany(
            "INSERT INTO articles (id, url, title, text, site, published) VALUES (?, ?, ?, ?, ?, ?)",
            [(i, f"https://e.com/{i}", f"t{i}", text, "e", "2024-01-01") for i in range(1, 1001)],
        )
    tracemalloc.start()
    try:
        n = export(conn, "jsonl", tmp_path / "big.jsonl")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    conn.close()
    assert n == 1000 and (tmp_path / "big.jsonl").stat().st_size > 20_000_000
    assert peak < 8_000_000, peak


def test_jsonl_reads_as_one_table_when_early_rows_are_null(tmp_path):
    """What ``datasets.load_dataset("json")`` does: pyarrow's JSON reader,
    block by block. Undated, authorless articles without duplicates come
    first, then ones with all fields: each column keeps one type."""
    import pyarrow as pa
    import pyarrow.json as paj

    path = tmp_path / "mixed.db"
    open_database(path).close()
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany(
            "INSERT INTO articles (id, url, title, text, author, published, story_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    i,
                    f"https://e.com/{i}",
                    f"Title {i}",
                    "Some text. " * 20,
                    None if i <= 100 else "A. Writer",
                    None if i <= 100 else "2024-05-01T10:00:00Z",
                    None if i <= 100 else 7,
                )
                for i in range(1, 201)
            ],
        )
        conn.executemany(
            "INSERT INTO duplicates (url, article_id, kind, similarity) VALUES (?, ?, 'exact', 1)",
            [(f"https://copy.e.com/{i}", i) for i in range(150, 201)],
        )
    out = tmp_path / "mixed.jsonl"
    assert export(conn, "jsonl", out) == 200
    conn.close()
    first_lines = sum(len(line) + 1 for line in out.read_bytes().split(b"\n")[:100])
    table = paj.read_json(out, read_options=paj.ReadOptions(block_size=first_lines))
    assert table.num_rows == 200 and table.column_names == list(FIELDS)
    assert table.schema.field("author").type == pa.string()
    assert table.schema.field("story_id").type == pa.int64()
    assert table.schema.field("duplicates").type == pa.list_(pa.string())
    assert table.column("duplicates").to_pylist()[199] == ["https://copy.e.com/200"]
