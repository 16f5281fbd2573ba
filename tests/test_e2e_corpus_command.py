"""``scrapy corpus summary`` and ``scrapy corpus check`` on real crawls."""

from __future__ import annotations

import pytest

from tests.helpers import SEEDS, run_scrapy, scrapy_crawl

pytestmark = pytest.mark.e2e


def test_summary_and_check_on_a_good_corpus(db_path):
    assert scrapy_crawl("files", db_path, path=str(SEEDS)).returncode == 0
    summary = run_scrapy("corpus", "summary", "--db", str(db_path))
    assert summary.returncode == 0
    assert "2 articles" in summary.stdout and "0 failures" in summary.stdout
    ok = run_scrapy("corpus", "check", "--db", str(db_path))
    assert ok.returncode == 0, ok.stdout
    assert ok.stdout.startswith("OK:")


def test_check_fails_on_a_broken_source(db_path, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.html").write_bytes(b"")
    (bad / "binary.html").write_bytes(bytes(range(256)) * 8)
    assert scrapy_crawl("files", db_path, path=str(bad)).returncode == 0
    proc = run_scrapy("corpus", "check", "--db", str(db_path))
    assert proc.returncode == 1
    assert "2 of 2 URLs failed" in proc.stdout


def test_check_fails_when_nothing_new_for_n_runs(db_path):
    for _ in range(3):
        assert scrapy_crawl("files", db_path, path=str(SEEDS)).returncode == 0
    assert run_scrapy("corpus", "check", "--db", str(db_path), "--stale-runs", "3").returncode == 0
    # Runs 2 and 3 only met known articles.
    proc = run_scrapy("corpus", "check", "--db", str(db_path), "--stale-runs", "2")
    assert proc.returncode == 1 and "no new article in the last 2 crawls" in proc.stdout


def test_check_without_crawls_fails(db_path):
    proc = run_scrapy("corpus", "check", "--db", str(db_path))
    assert proc.returncode == 1 and "no crawl" in proc.stdout
