"""End to end: real ``scrapy crawl warc`` runs on WARC files built here, read
from disk and from a CC-NEWS-like tree served on 127.0.0.1; a run killed
with SIGKILL and resumed gives the corpus one clean run gives."""

from __future__ import annotations

import gzip
import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests import warcs
from tests.helpers import ROOT, crawl_stats, scrapy_argv
from tests.helpers import scrapy_crawl as crawl

pytestmark = pytest.mark.e2e

MONTH = "crawl-data/CC-NEWS/2024/01"
URL = "https://news.example/2024/01/story-{}.html"
LOCAL = {"ALLOW_PRIVATE_NETWORKS": "True", "CLEAN_WORKERS": "1", "LOG_LEVEL": "INFO"}


def page(i: int, url: str | None = None, **kw) -> warcs.Rec:
    html = warcs.article_html(f"Story number {i}", warcs.story_paragraphs(i))
    return warcs.response(url or URL.format(i), html, **kw)


def first_file() -> list[warcs.Rec]:
    cut = page(90)
    cut.headers["WARC-Truncated"] = "length"
    recs = [warcs.warcinfo()]
    for i in range(6):
        recs += [warcs.request(URL.format(i)), page(i, date=f"2024-01-0{i + 1}T10:00:00Z")]
        recs.append(warcs.metadata(URL.format(i)))
    recs += [
        warcs.revisit(URL.format(0)),
        warcs.response("https://news.example/logo.png", b"\x89PNG\r\n", content_type="image/png"),
        warcs.response("https://news.example/moved", b"", status=301),
        cut,
        warcs.Rec("response", b"", raw=b"WARC/1.0\r\nno headers\r\n\r\nzz\r\n\r\n"),
        page(6, "https://www.other.example/politics/story-6.html"),
    ]
    return recs


def second_file() -> list[warcs.Rec]:
    later = warcs.article_html(
        "Story number 3", warcs.story_paragraphs(3), published="2024-01-20T08:00:00Z"
    )
    return [
        warcs.warcinfo(),
        *(page(i, date=f"2024-01-{i + 1:02d}T10:00:00Z") for i in range(7, 12)),
        # an exact copy of story 3, published later: a duplicate of it
        warcs.response("https://copies.example/story-3.html", later),
    ]


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("cc")
    month = root / MONTH
    month.mkdir(parents=True)
    names = ["CC-NEWS-20240115000000-00000.warc.gz", "CC-NEWS-20240116000000-00001.warc.gz"]
    warcs.write(month / names[0], first_file())
    warcs.write(month / names[1], second_file())
    listing = "".join(f"{MONTH}/{n}\n" for n in names).encode()
    (month / "warc.paths.gz").write_bytes(gzip.compress(listing))
    return root


@pytest.fixture(scope="module")
def server(tree):
    with warcs.ArchiveServer(tree) as srv:
        yield srv


def rows(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def corpus_state(db: Path) -> dict[str, list[tuple]]:
    """What a user sees, without ids, crawl ids and write times."""
    return {
        "articles": rows(
            db,
            "SELECT url, fetched_url, title, text, published, site, content_hash, fetched_at"
            " FROM articles ORDER BY url",
        ),
        "duplicates": rows(
            db,
            "SELECT d.url, d.kind, a.url FROM duplicates d JOIN articles a ON a.id = d.article_id"
            " ORDER BY d.url",
        ),
        "failures": rows(db, "SELECT url, stage, reason, attempts FROM failures ORDER BY url"),
        # every raw page, a copy's too (the end-of-crawl settle may keep any of them)
        "pages": rows(db, "SELECT url, fetched_url, fetched_at, body FROM pages ORDER BY url"),
        "files": rows(db, "SELECT location, finished FROM warc_files ORDER BY location"),
    }


@pytest.fixture(scope="module")
def local_run(tree, tmp_path_factory):
    db = tmp_path_factory.mktemp("local") / "corpus.db"
    result = crawl("warc", db, settings=LOCAL, path=str(tree / MONTH))
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_html_responses_become_articles_and_every_other_record_is_counted(local_run):
    articles = local_run.rows("SELECT * FROM articles ORDER BY url")
    assert [a["url"] for a in articles] == sorted(
        [URL.format(i) for i in [*range(6), *range(7, 12)]]
        + ["https://www.other.example/politics/story-6.html"]
    )
    first = next(a for a in articles if a["url"] == URL.format(0))
    assert first["fetched_at"] == "2024-01-01T10:00:00+00:00"  # the WARC-Date
    assert first["published"].startswith("2024-01-14")  # the page's own date
    assert first["title"] == "Story number 0"
    assert "Story 0 part 0:" in first["text"] and "The Test Gazette" not in first["text"]
    raw = local_run.rows("SELECT fetched_at, content_type FROM pages WHERE url = ?", [first["url"]])
    assert raw == [{"fetched_at": first["fetched_at"], "content_type": "text/html; charset=utf-8"}]
    stats = crawl_stats(local_run)
    assert stats["warc/records/pages"] == 13
    for key, n in {
        "warcinfo": 2,
        "request": 6,
        "metadata": 6,
        "revisit": 1,
        "not_html": 1,
        "status_3xx": 1,
    }.items():
        assert stats[f"warc/skipped/{key}"] == n, key
    assert stats["warc/records/truncated"] == 1 and stats["warc/records/unreadable"] == 1
    assert stats["warc/files/read"] == 2
    dup = local_run.rows("SELECT url, kind FROM duplicates")
    assert dup == [{"url": "https://copies.example/story-3.html", "kind": "exact"}]


def test_a_truncated_page_and_an_unreadable_record_are_failures_naming_file_and_offset(
    local_run, tree
):
    failures = {f["url"]: f for f in local_run.rows("SELECT * FROM failures")}
    cut = failures.pop(URL.format(90))
    assert cut["stage"] == "download" and "WARC-Truncated" in cut["reason"]
    assert "CC-NEWS-20240115000000-00000.warc.gz at byte offset" in cut["reason"]
    ((url, bad),) = failures.items()
    name = str(tree / MONTH / "CC-NEWS-20240115000000-00000.warc.gz")
    assert url.startswith(f"{name}#offset=") and bad["stage"] == "parse"
    offset = int(url.rsplit("=", 1)[1])
    data = (tree / MONTH / "CC-NEWS-20240115000000-00000.warc.gz").read_bytes()
    assert b"no headers" in gzip.decompress(data[offset:])[:40]  # the garbled record is there
    assert f"byte offset {offset}" in bad["reason"]


def test_every_html_response_ends_in_exactly_one_place(local_run):
    stats = crawl_stats(local_run)
    placed = (
        stats.get("corpus/articles/stored", 0)
        + stats.get("corpus/duplicates/exact", 0)
        + stats.get("corpus/failures/download", 0)  # the truncated one
    )
    assert placed == stats["warc/records/pages"] + stats["warc/records/truncated"]


def test_a_second_run_skips_finished_files(local_run, tree):
    before = corpus_state(local_run.db_path)
    assert [f for _, f in before["files"]] == [1, 1]
    again = crawl("warc", local_run.db_path, settings=LOCAL, path=str(tree / MONTH))
    assert again.returncode == 0, again.stderr[-3000:]
    stats = crawl_stats(again)
    assert stats["warc/files/finished_before"] == 2 and "warc/records/read" not in stats
    assert corpus_state(local_run.db_path) == before


def test_ccnews_months_and_listings_are_read_over_http(server, local_run, tmp_path):
    settings = {**LOCAL, "WARC_BASE_URL": server.base}
    db = tmp_path / "cc.db"
    result = crawl("warc", db, settings=settings, ccnews="2024-01")
    assert result.returncode == 0, result.stderr[-3000:]
    assert (MONTH + "/warc.paths.gz") in server.requests[0][0]
    local = corpus_state(local_run.db_path)
    remote = corpus_state(db)
    assert remote["articles"] == local["articles"]
    assert remote["duplicates"] == local["duplicates"]
    assert [f[0] for f in remote["files"]] == [
        f"{server.base}{MONTH}/CC-NEWS-20240115000000-00000.warc.gz",
        f"{server.base}{MONTH}/CC-NEWS-20240116000000-00001.warc.gz",
    ]
    # a listing given by URL reads the same files
    db2 = tmp_path / "paths.db"
    result = crawl("warc", db2, settings=settings, paths=f"{server.base}{MONTH}/warc.paths.gz")
    assert result.returncode == 0, result.stderr[-3000:]
    assert corpus_state(db2)["articles"] == local["articles"]


def test_private_archive_hosts_are_refused_unless_allowed(server, tmp_path):
    settings = {"CLEAN_WORKERS": "0", "WARC_BASE_URL": server.base}
    result = crawl("warc", tmp_path / "c.db", settings=settings, ccnews="2024-01")
    assert result.returncode == 0, result.stderr[-3000:]
    (failure,) = result.rows("SELECT url, stage, reason FROM failures")
    assert failure["stage"] == "download" and "ALLOW_PRIVATE_NETWORKS" in failure["reason"]


def test_hosts_and_dates_filter_before_decoding(tree, tmp_path):
    result = crawl(
        "warc",
        tmp_path / "f.db",
        settings=LOCAL,
        path=str(tree / MONTH),
        hosts="other.example,copies.example",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    urls = [r["url"] for r in result.rows("SELECT url FROM articles ORDER BY url")]
    assert urls == [
        "https://copies.example/story-3.html",
        "https://www.other.example/politics/story-6.html",
    ]
    stats = crawl_stats(result)
    assert stats["warc/skipped/host"] == 14 and stats["warc/records/pages"] == 2
    result = crawl(
        "warc",
        tmp_path / "d.db",
        settings=LOCAL,
        path=str(tree / MONTH),
        since="2024-01-02",
        until="2024-01-04",
    )
    urls = [r["url"] for r in result.rows("SELECT url FROM articles ORDER BY url")]
    assert urls == [URL.format(i) for i in (1, 2, 3)]


def test_limit_stops_after_that_many_stored_articles_and_a_rerun_goes_on(tree, tmp_path):
    db = tmp_path / "l.db"
    result = crawl("warc", db, settings=LOCAL, path=str(tree / MONTH), limit="4")
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(result.rows("SELECT id FROM articles")) == 4
    result = crawl("warc", db, settings=LOCAL, path=str(tree / MONTH), limit="100")
    assert crawl_stats(result)["warc/files/resumed"] == 1
    assert len(result.rows("SELECT id FROM articles")) == 12
    assert len(result.rows("SELECT url FROM duplicates")) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({}, "exactly one of"),
        ({"path": "x.warc", "ccnews": "2024-01"}, "exactly one of"),
        ({"path": "/nonexistent.warc.gz"}, "does not exist"),
        ({"ccnews": "2015-01"}, "CC-NEWS starts"),
        ({"ccnews": "2024-01", "since": "soon"}, "YYYY-MM-DD"),
        ({"ccnews": "2024-01", "limit": "0"}, "limit"),
        ({"ccnews": "2024-01", "colour": "red"}, "unknown argument"),
    ],
)
def test_bad_arguments_fail_with_one_line(tmp_path, args, message):
    result = crawl("warc", tmp_path / "x.db", **args)
    assert result.returncode != 0
    assert message in result.stderr and "Traceback" not in result.stderr


def test_the_same_page_gives_the_same_article_from_a_warc_and_from_the_web(tmp_path):
    html = warcs.article_html("Web and archive", warcs.story_paragraphs(42))
    with warcs.ArchiveServer(tmp_path) as srv:
        srv.pages["/news/web-and-archive.html"] = ("text/html; charset=utf-8", html)
        url = f"{srv.base}news/web-and-archive.html"
        web = crawl("urls", tmp_path / "web.db", settings=LOCAL, urls=url)
        assert web.returncode == 0, web.stderr[-3000:]
    path = warcs.write(tmp_path / "one.warc.gz", [warcs.response(url, html)])
    arc = crawl("warc", tmp_path / "arc.db", settings=LOCAL, path=str(path))
    assert arc.returncode == 0, arc.stderr[-3000:]
    sql = "SELECT url, fetched_url, title, text, author, published, site, language, content_hash FROM articles"
    assert web.rows(sql) == arc.rows(sql) and len(arc.rows(sql)) == 1


# --- SIGKILL and resume -----------------------------------------------------------------


def big_file(path: Path, n: int) -> Path:
    recs = [warcs.warcinfo()]
    for i in range(n):
        recs += [warcs.request(URL.format(i)), page(i), warcs.metadata(URL.format(i))]
        if i % 25 == 7:
            recs.append(
                warcs.response(
                    f"https://news.example/img-{i}.png", b"PNG", content_type="image/png"
                )
            )
        if i % 40 == 11:
            short = warcs.article_html(f"Brief {i}", ["Too short to keep."])
            recs.append(warcs.response(f"https://news.example/brief-{i}.html", short))
        if i % 50 == 13:
            later = warcs.article_html(
                f"Story number {i}", warcs.story_paragraphs(i), published="2024-01-20T08:00:00Z"
            )
            recs.append(warcs.response(f"https://copies.example/story-{i}.html", later))
    return warcs.write(path, recs)


def spawn(db: Path, path: Path, log: Path) -> subprocess.Popen:
    cmd = scrapy_argv("crawl", "warc", "-a", f"path={path}")
    cmd += ["-s", f"CORPUS_DB={db}", "-s", "CORPUS_BATCH_SIZE=16", "-s", "LOG_LEVEL=INFO"]
    with open(log, "ab") as out:
        return subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=out, start_new_session=True)


def committed(db: Path) -> int:
    try:
        return rows(db, "SELECT count(*) FROM articles")[0][0]
    except sqlite3.Error:
        return 0


def kill_after(db: Path, path: Path, log: Path, articles: int) -> None:
    """Start an ingest and SIGKILL it (and its cleaning workers) once the
    corpus holds at least ``articles`` articles."""
    proc = spawn(db, path, log)
    deadline = time.monotonic() + 120
    while committed(db) < articles and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the ingest finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def test_sigkill_at_any_moment_and_a_rerun_give_the_corpus_of_one_clean_run(tmp_path):
    path = big_file(tmp_path / "big.warc.gz", 240)
    clean = tmp_path / "clean.db"
    result = crawl("warc", clean, path=str(path), settings={"CORPUS_BATCH_SIZE": "16"})
    assert result.returncode == 0, result.stderr[-3000:]
    expected = corpus_state(clean)
    assert len(expected["articles"]) == 240 and expected["duplicates"] and expected["failures"]

    db, log = tmp_path / "killed.db", tmp_path / "killed.log"
    for articles in (20, 90, 170):  # killed three times, each time further on
        kill_after(db, path, log, articles)
        progress = rows(db, "SELECT offset, finished FROM warc_files")
        assert progress and progress[0][1] == 0
    result = crawl("warc", db, path=str(path), settings={"CORPUS_BATCH_SIZE": "16"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert crawl_stats(result)["warc/files/resumed"] == 1
    assert corpus_state(db) == expected
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]
    crawls = rows(db, "SELECT finish_reason FROM crawls ORDER BY id")
    assert crawls[-1] == ("finished",) and json.loads(rows(db, "SELECT args FROM crawls")[0][0])
