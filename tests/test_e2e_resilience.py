"""Runs that survive faults: SIGKILL and restart, pause and resume (JOBDIR),
a locked database."""

from __future__ import annotations

import importlib.util
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.helpers import ROOT, run_scrapy, scrapy_argv, scrapy_crawl

pytestmark = pytest.mark.e2e


def _bench_module(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("site") / "site"
    _bench_module("sitegen").generate(folder, pages=150, seed=7)
    (folder / "bad-empty.html").write_bytes(b"")
    (folder / "bad-binary.html").write_bytes(bytes(range(256)) * 4)
    return folder


def _count(db_path, sql="select count(*) from articles"):
    try:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute(sql).fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def _places(db_path):
    """Every URL the crawl was asked for, with where it ended (article or
    duplicate count as one place: which copy is kept may vary)."""
    conn = sqlite3.connect(db_path)
    try:
        places = {}
        for (url,) in conn.execute(
            "select fetched_url from articles union all select fetched_url from duplicates"
        ):
            assert url not in places, f"{url} is in two places"
            places[url] = "stored"
        for url, stage in conn.execute("select url, stage from failures"):
            assert url not in places, f"{url} is in two places"
            places[url] = f"failed:{stage}"
        return places
    finally:
        conn.close()


def _crawl_cmd(spider, db_path, *extra):
    return scrapy_argv(
        "crawl",
        spider,
        "-s",
        f"CORPUS_DB={db_path}",
        "-s",
        "LOG_LEVEL=INFO",
        *extra,
    )


def _wait_for(db_path, n, proc, timeout=120):
    deadline = time.monotonic() + timeout
    while _count(db_path) < n:
        assert proc.poll() is None, "the crawl ended before it could be interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_sigkill_then_restart_loses_and_duplicates_nothing(site, tmp_path):
    reference = scrapy_crawl("files", tmp_path / "ref.db", path=str(site))
    assert reference.returncode == 0
    # Which of two identical copies is kept depends on arrival order, so
    # compare what must not vary: the texts kept, and where every URL ended.
    expected = sorted(
        r["content_hash"] for r in reference.rows("select content_hash from articles")
    )
    expected_places = _places(reference.db_path)

    db_path = tmp_path / "corpus.db"
    cmd = _crawl_cmd(
        "files", db_path, "-a", f"path={site}", "-s", "CORPUS_BATCH_SIZE=5", "-s", "CLEAN_WORKERS=0"
    )
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for(db_path, 20, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    killed_at = _count(db_path)
    assert 0 < killed_at < len(expected), "the kill should land mid-crawl"

    # The killed crawl is visible to schedulers as not finished.
    check = run_scrapy("corpus", "check", "--db", str(db_path))
    assert check.returncode == 1 and "never finished" in check.stdout

    again = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    conn = sqlite3.connect(db_path)
    assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
    hashes = sorted(r[0] for r in conn.execute("select content_hash from articles"))
    assert hashes == expected  # nothing lost, nothing stored twice
    assert _places(db_path) == expected_places
    # FTS stays in step with the table.
    assert conn.execute("select count(*) from articles_fts").fetchone()[0] == len(expected)
    reasons = [r[0] for r in conn.execute("select finish_reason from crawls order by id")]
    assert reasons == [None, "finished"]


def test_pause_and_resume_with_jobdir(site, tmp_path):
    server = _bench_module("server").start(site)
    try:
        db_path = tmp_path / "corpus.db"
        jobdir = tmp_path / "job"
        cmd = _crawl_cmd(
            "sitemaps",
            db_path,
            "-a",
            f"sitemaps={server.base}/sitemap.xml",
            "-s",
            f"JOBDIR={jobdir}",
            "-s",
            "ALLOW_PRIVATE_NETWORKS=True",
            "-s",
            "AUTOTHROTTLE_ENABLED=False",
            "-s",
            "DOWNLOAD_DELAY=0.03",
            "-s",
            "CONCURRENT_REQUESTS_PER_DOMAIN=1",
            "-s",
            "CORPUS_BATCH_SIZE=5",
        )
        proc = subprocess.Popen(
            cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        _wait_for(db_path, 15, proc)
        proc.send_signal(signal.SIGINT)  # what Ctrl-C does: a graceful stop
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-2000:]
        paused = _count(db_path)
        first_requests = server.requests
        assert _count(db_path, "select count(*) from crawls where finish_reason = 'shutdown'") == 1

        resumed = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert resumed.returncode == 0, resumed.stderr[-2000:]
        total = _count(db_path)
        pages = sum(1 for p in server.files if p.endswith(".html")) - 2  # the two bad files
        stored_or_dup = total + _count(db_path, "select count(*) from duplicates")
        assert total > paused
        assert stored_or_dup == pages, (total, stored_or_dup, pages)
        # Resuming fetched the rest, not everything again.
        assert server.requests - first_requests < pages - paused + 10
        assert _count(db_path, "select count(*) from crawls where finish_reason = 'finished'") == 1
    finally:
        server.shutdown()


def test_a_locked_database_is_a_clear_error_not_corruption(site, tmp_path):
    db_path = tmp_path / "corpus.db"
    assert scrapy_crawl("files", db_path, path=str(ROOT / "seeds")).returncode == 0
    locker = sqlite3.connect(db_path, timeout=1)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        proc = run_scrapy(
            "crawl",
            "files",
            "-a",
            f"path={site}",
            "-s",
            f"CORPUS_DB={db_path}",
            "-s",
            "CORPUS_BUSY_TIMEOUT=1",
        )
    finally:
        locker.rollback()
        locker.close()
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "database is locked" in lines[0], proc.stderr
    conn = sqlite3.connect(db_path)
    assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert conn.execute("select count(*) from articles").fetchone()[0] == 2


def test_a_full_disk_stops_the_crawl_cleanly_and_a_rerun_completes(site, tmp_path):
    import os
    import resource

    db_path = tmp_path / "corpus.db"
    assert scrapy_crawl("files", db_path, path=str(ROOT / "seeds")).returncode == 0
    limit = db_path.stat().st_size + 300_000  # room for a few batches, not for the site

    def small_disk():
        # Like a full disk or quota: writes past `limit` bytes fail with EFBIG.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    cmd = _crawl_cmd("files", db_path, "-a", f"path={site}", "-s", "CORPUS_BATCH_SIZE=20")
    proc = subprocess.run(
        cmd,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=small_disk,
        env=dict(os.environ),
    )
    errors = [line for line in proc.stderr.splitlines() if " ERROR: " in line]
    assert any("Cannot write to the corpus" in line and "full" in line for line in errors), (
        proc.stderr[-3000:]
    )
    assert "Traceback" not in proc.stderr
    conn = sqlite3.connect(db_path)
    assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
    partial = conn.execute("select count(*) from articles").fetchone()[0]
    conn.close()
    # With the disk full, even the end of the crawl cannot be recorded: the
    # health check reports the crawl as unfinished.
    check = run_scrapy("corpus", "check", "--db", str(db_path))
    assert check.returncode == 1
    assert "corpus_write_error" in check.stdout or "never finished" in check.stdout

    rerun = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    conn = sqlite3.connect(db_path)
    total = conn.execute("select count(*) from articles").fetchone()[0]
    assert total > partial
    expected = scrapy_crawl("files", tmp_path / "ref.db", path=str(site))
    assert total - 2 == expected.rows("select count(*) n from articles")[0]["n"]  # + the seeds
