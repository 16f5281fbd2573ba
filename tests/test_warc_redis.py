"""Scale-out of WARC ingest on a real Redis: the files of a listing are a
shared work queue; each is read by one worker, and a dead worker's file is
taken up again where its progress says."""

from __future__ import annotations

import gzip
import os
import signal
import sqlite3
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import sqlite_utils

from crawler.archives.progress import Progress
from crawler.archives.shared import SharedFiles
from crawler.scaleout.channel import Outbox
from crawler.scaleout.codec import Keys
from crawler.scaleout.drain import Drainer
from crawler.storage.corpus import Corpus
from tests import warcs
from tests.helpers import ROOT, article, scrapy_argv
from tests.helpers import scrapy_crawl as crawl

MONTH = "crawl-data/CC-NEWS/2024/01"


def test_a_file_is_claimed_by_one_worker_and_a_lapsed_claim_is_taken_over(redis_client):
    a = SharedFiles(redis_client, "t", "worker-a", ttl=1)
    b = SharedFiles(redis_client, "t", "worker-b", ttl=1)
    assert a.claim("f1") and a.claim("f1")  # claiming again keeps it
    assert not b.claim("f1") and b.holder("f1") == "worker-a"
    assert a.save(Progress("f1", 120, frozenset({150})))
    assert not b.save(Progress("f1", 999))  # only the holder records progress
    assert b.progress("f1") == Progress("f1", 120, frozenset({150}), False)
    time.sleep(1.3)  # worker-a stops showing signs of life
    assert b.claim("f1") and not a.alive("f1")
    assert not a.save(Progress("f1", 130))
    assert b.save(Progress("f1", 400, finished=True))
    assert a.progress("f1") == Progress("f1", 400, frozenset(), True)
    b.release("f1")
    assert a.claim("f1")


def page(i: int) -> warcs.Rec:
    html = warcs.article_html(f"Shared story {i}", warcs.story_paragraphs(1000 + i))
    return warcs.response(f"https://news.example/2024/01/shared-{i}.html", html)


def write_tree(root: Path, files: int, per_file: int) -> list[str]:
    month = root / MONTH
    month.mkdir(parents=True)
    names = []
    for f in range(files):
        name = f"CC-NEWS-2024011{f}000000-0000{f}.warc.gz"
        recs = [warcs.warcinfo()]
        for i in range(f * per_file, (f + 1) * per_file):
            recs += [warcs.request(page(i).headers["WARC-Target-URI"]), page(i)]
        warcs.write(month / name, recs)
        names.append(name)
    listing = "".join(f"{MONTH}/{n}\n" for n in names).encode()
    (month / "warc.paths.gz").write_bytes(gzip.compress(listing))
    return names


def worker(server: warcs.ArchiveServer, redis_url: str, key: str, log: Path) -> subprocess.Popen:
    cmd = scrapy_argv("crawl", "warc", "-a", "ccnews=2024-01")
    for setting in (
        f"WARC_BASE_URL={server.base}",
        f"CORPUS_REDIS_URL={redis_url}",
        f"CORPUS_REDIS_KEY={key}",
        "CORPUS_REDIS_IDLE_CLOSE=1",
        "WARC_CLAIM_SECONDS=3",
        "ALLOW_PRIVATE_NETWORKS=True",
        "CLEAN_WORKERS=0",
        f"CORPUS_DB={log.with_suffix('.db')}",
    ):
        cmd += ["-s", setting]
    return subprocess.Popen(
        cmd, cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True
    )


def drain(redis_url: str, key: str, db: Path) -> subprocess.CompletedProcess:
    cmd = scrapy_argv("corpus", "drain", "--db", str(db))
    cmd += ["--redis", redis_url, "--key", key, "--idle", "2"]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)


def articles(db: Path) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT url, title, text FROM articles ORDER BY url").fetchall()
    finally:
        conn.close()


def warc_files(db: Path) -> dict[str, tuple[int, int]]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT location, finished, offset FROM warc_files").fetchall()
    finally:
        conn.close()
    return {loc: (finished, offset) for loc, finished, offset in rows}


def file_requests(server: warcs.ArchiveServer, name: str) -> list[str | None]:
    return [rng for path, rng in server.requests if path.endswith(name)]


@pytest.mark.e2e
def test_two_workers_share_the_files_of_a_listing(redis_server, redis_client, tmp_path):
    names = write_tree(tmp_path / "tree", files=4, per_file=6)
    key = f"warc-{uuid.uuid4().hex[:6]}"
    with warcs.ArchiveServer(tmp_path / "tree") as server:
        logs = [tmp_path / f"w{i}.log" for i in (1, 2)]
        procs = [worker(server, redis_server.url, key, log) for log in logs]
        for proc, log in zip(procs, logs, strict=True):
            assert proc.wait(timeout=120) == 0, log.read_text()[-3000:]
        for name in names:  # each file read once, by one worker, from its start
            assert file_requests(server, name) == [None], name
    result = drain(redis_server.url, key, tmp_path / "corpus.db")
    assert result.returncode == 0, result.stderr[-3000:]
    got = articles(tmp_path / "corpus.db")
    assert len(got) == 24
    shared = SharedFiles(redis_client, key, "test")
    assert all(shared.progress(f"{server.base}{MONTH}/{n}").finished for n in names)
    # the drain's corpus keeps each file's progress too, as a local crawl's does
    assert warc_files(tmp_path / "corpus.db") == {
        f"{server.base}{MONTH}/{n}": (1, shared.progress(f"{server.base}{MONTH}/{n}").offset)
        for n in names
    }


@pytest.mark.e2e
def test_a_dead_workers_file_is_taken_up_again_where_it_stopped(
    redis_server, redis_client, tmp_path
):
    (name,) = write_tree(tmp_path / "tree", files=1, per_file=120)
    clean = tmp_path / "clean.db"
    local = crawl("warc", clean, path=str(tmp_path / "tree" / MONTH / name))
    assert local.returncode == 0, local.stderr[-3000:]
    key = f"warc-{uuid.uuid4().hex[:6]}"
    shared = SharedFiles(redis_client, key, "test")
    with warcs.ArchiveServer(tmp_path / "tree") as server:
        location = f"{server.base}{MONTH}/{name}"
        first = worker(server, redis_server.url, key, tmp_path / "w1.log")
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and first.poll() is None:
            saved = shared.progress(location)
            if saved is not None and saved.offset > 0:
                break
            time.sleep(0.05)
        assert first.poll() is None, (tmp_path / "w1.log").read_text()[-3000:]
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
        stopped_at = shared.progress(location)
        assert stopped_at is not None and not stopped_at.finished
        second = worker(server, redis_server.url, key, tmp_path / "w2.log")
        assert second.wait(timeout=120) == 0, (tmp_path / "w2.log").read_text()[-3000:]
        ranges = file_requests(server, name)
        assert ranges[0] is None and ranges[-1] == f"bytes={stopped_at.offset}-"
    assert shared.progress(location).finished
    result = drain(redis_server.url, key, tmp_path / "corpus.db")
    assert result.returncode == 0, result.stderr[-3000:]
    assert articles(tmp_path / "corpus.db") == articles(clean)


def test_warc_progress_reaches_the_corpus_only_with_the_records_it_counts(redis_client, tmp_path):
    """A worker records a file's progress once its items are in the list: the
    drain copies it into ``warc_files`` once the batch that reaches the end
    of the list is written, never while items it counts wait in Redis."""
    keys = Keys("t")
    out = Outbox(redis_client, keys, "w1", "warc")
    out.push("crawl_start", args={}, at="2024-05-02T10:00:00+00:00")
    for n in range(1, 5):
        out.push(
            "article",
            article(f"https://news.example/{n}", f"Text of story {n}. " * 30, title=f"Story {n}"),
        )
    shared = SharedFiles(redis_client, "t", "reader")
    assert shared.claim("https://data.example/a.warc.gz")
    assert shared.save(Progress("https://data.example/a.warc.gz", 900, frozenset(), True))
    redis_client.hset(keys.warc_progress, "https://data.example/bad.warc.gz", b"{not json")
    corpus = Corpus(tmp_path / "c.db")
    drainer = Drainer(redis_client, corpus, keys, batch_size=3)
    db = sqlite_utils.Database(tmp_path / "c.db")
    assert drainer.step() == 3  # two of the file's records still in Redis
    assert db["warc_files"].count == 0
    assert drainer.step() == 2
    rows = list(db.query("select location, offset, finished from warc_files"))
    assert rows == [{"location": "https://data.example/a.warc.gz", "offset": 900, "finished": 1}]
    assert db["articles"].count == 4
    assert drainer.step() == 0  # nothing new: nothing written again
    corpus.close()
