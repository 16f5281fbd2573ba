"""The pieces that keep hostile input from losing other input, without a crawl:
gzip integrity, Retry-After, settings, bounded titles, the corpus write check,
the requested URL of a redirect, and the cleaning pool's shutdown."""

from __future__ import annotations

import asyncio
import ctypes
import gzip
import os
import subprocess
import sys
import zlib
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from multiprocessing import forkserver

import pytest

from crawler.config import Config, ConfigError
from crawler.core.pool import CleaningPool
from crawler.core.writer import CorpusWriter
from crawler.downloadermiddlewares.integrity import gzip_problem, retry_after_seconds
from crawler.extract.processing import TITLE_MAX_CHARS, Options, bounded_title
from crawler.items import Page
from crawler.listings.entries import BadLink, join_link
from crawler.storage.corpus import CorpusError, check_writable, open_database
from tests.helpers import ROOT, article
from tests.hostile_server import article_html

PAGE = gzip.compress(b"<html><body>" + b"<p>words and more words</p>" * 200 + b"</body></html>")


def test_a_whole_gzip_body_has_no_problem():
    assert gzip_problem(PAGE, 10_000_000) is None
    assert gzip_problem(PAGE + PAGE, 10_000_000) is None  # two members


@pytest.mark.parametrize("cut", [10, len(PAGE) // 2, len(PAGE) - 4])
def test_a_gzip_body_cut_short_is_truncated(cut):
    problem = gzip_problem(PAGE[:cut], 10_000_000)
    assert problem is not None and "corrupt gzip" in problem
    if cut > 10:
        assert "truncated" in problem


def test_a_corrupt_gzip_body_says_so():
    bad = bytearray(PAGE)
    bad[30:60] = bytes(30)
    assert "corrupt gzip" in (gzip_problem(bytes(bad), 10_000_000) or "")
    assert "corrupt gzip" in (gzip_problem(b"plain text, not gzip", 10_000_000) or "")


def test_a_gzip_bomb_is_checked_in_bounded_memory():
    bomb = gzip.compress(b"\0" * 50_000_000)
    assert gzip_problem(bomb, 1_000_000) is None  # left to DOWNLOAD_MAXSIZE's check
    assert "DOWNLOAD_MAXSIZE" in (gzip_problem(bomb, 1_000_000, size_checked_later=False) or "")


def test_deflate_is_not_mistaken_for_gzip():
    assert "corrupt gzip" in (gzip_problem(zlib.compress(b"x" * 100), 1000) or "")


def test_retry_after_seconds_and_dates():
    assert retry_after_seconds("120") == 120.0
    now = datetime(2026, 1, 1, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert retry_after_seconds(later, now) == 30.0
    assert retry_after_seconds(format_datetime(now - timedelta(days=1), usegmt=True), now) == 0.0
    assert retry_after_seconds("soon") is None


def test_the_new_settings_are_typed_and_validated():
    config = Config.from_settings(
        {"ALLOW_PRIVATE_HOSTS": "127.0.0.1:8080,10.0.0.0/8", "CORPUS_RETRY_AFTER_MAX": "5"}
    )
    assert config.corpus_retry_after_max == 5.0
    assert config.allowed_hosts.allows("127.0.0.1", port=8080)
    assert not config.allowed_hosts.allows("127.0.0.1", port=22)
    with pytest.raises(ConfigError, match="ALLOW_PRIVATE_HOSTS"):
        Config.from_settings({"ALLOW_PRIVATE_HOSTS": "10.0.0.0/99"})
    with pytest.raises(ConfigError, match="CORPUS_RETRY_AFTER_MAX"):
        Config.from_settings({"CORPUS_RETRY_AFTER_MAX": "-1"})


def test_join_link_says_why_a_link_is_unusable():
    assert join_link("https://a.example/feed", "/x") == "https://a.example/x"
    bad = join_link("https://a.example/feed", "http://[::1/broken")
    assert isinstance(bad, BadLink) and "IPv6" in bad.reason
    bad = join_link("https://a.example/feed", "//a.example:70000/x")
    assert isinstance(bad, BadLink) and "port" in bad.reason


def test_titles_are_bounded_at_a_word():
    title = bounded_title("Headline words " * 70_000)
    assert len(title) <= TITLE_MAX_CHARS and title.endswith("words\u2026")
    assert bounded_title("A short headline") == "A short headline"


def _without_root_override() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH out of the bounding set
        if libc.prctl(24, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def test_the_write_check_fails_on_a_read_only_corpus(tmp_path):
    """Run in a child that obeys file modes even as root (see test_hostile_e2e)."""
    db_path = tmp_path / "ro.db"
    open_database(db_path).close()
    db_path.chmod(0o444)
    code = (
        "import sys\n"
        "from crawler.storage.corpus import CorpusError, check_writable, open_database\n"
        "db = open_database(sys.argv[1])\n"
        "try:\n"
        "    check_writable(db)\n"
        "except CorpusError as exc:\n"
        "    print(exc)\n"
        "    sys.exit(3)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(db_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_without_root_override if os.geteuid() == 0 else None,
    )
    assert proc.returncode == 3, proc.stderr
    assert "cannot write to CORPUS_DB" in proc.stdout


def test_the_write_check_passes_on_a_writable_corpus(tmp_path):
    db = open_database(tmp_path / "rw.db")
    try:
        check_writable(db)
        assert "_corpus_write_check" not in db.table_names()
    finally:
        db.close()
    assert CorpusError


def _writer(tmp_path) -> CorpusWriter:
    writer = CorpusWriter(str(tmp_path / "c.db"), batch_size=10, busy_timeout=5, thread=False)
    writer.open("urls", {})
    return writer


def test_the_requested_url_of_a_redirect_becomes_a_url_duplicate(tmp_path):
    writer = _writer(tmp_path)
    text = " ".join(f"word{i}" for i in range(80))
    kept = article("https://news.example/final", text, requested_url="https://news.example/old")
    copy = article(
        "https://mirror.example/copy", text, requested_url="https://mirror.example/asked"
    )
    asyncio.run(writer.store(kept))
    asyncio.run(writer.store(copy))
    writer.flush()
    db = open_database(tmp_path / "c.db")
    (art,) = db.query("select id from articles")
    dups = {r["url"]: r for r in db.query("select url, article_id, kind from duplicates")}
    assert dups["https://news.example/old"]["article_id"] == art["id"]
    assert dups["https://news.example/old"]["kind"] == "url"
    # the copy is an exact duplicate; the URL asked for points at the kept article too
    assert dups["https://mirror.example/asked"]["article_id"] == art["id"]
    db.close()


def test_closing_the_pool_leaves_no_fork_server(tmp_path):
    pool = CleaningPool(Options(min_words=5), workers=1)
    pool.start()
    page = Page(url="https://news.example/a", body=article_html(1), content_type="text/html")
    result = asyncio.run(pool.clean(page))
    assert result.url
    pid = forkserver._forkserver._forkserver_pid
    assert pid is not None
    pool.close()
    assert forkserver._forkserver._forkserver_pid is None
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped: gone, not a zombie
