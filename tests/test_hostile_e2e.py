"""Hostile input beyond one URL list: feeds and sitemaps with unusable links,
a read-only corpus, a loopback proxy, local files that lie, and the cleaning
workers outliving the command (tests/hostile_server.py serves the web side)."""

from __future__ import annotations

import ctypes
import gzip
import os
import subprocess
from pathlib import Path

import pytest

from crawler.storage.corpus import open_database
from tests.helpers import ROOT, SEEDS, scrapy_argv, scrapy_crawl
from tests.hostile_server import HostileServer

pytestmark = pytest.mark.e2e

BROKEN_IPV6 = "http://[::1/broken"
BAD_PORT = "http://127.0.0.1:99999/x"


@pytest.fixture(scope="module")
def server():
    with HostileServer() as s:
        yield s


def _allowed(server) -> dict:
    # every private address allowed: these tests are about the listings
    return {"ALLOW_PRIVATE_NETWORKS": True, "CLEAN_WORKERS": 0}


def test_a_feed_with_unusable_links_keeps_its_good_entries(server, tmp_path):
    result = scrapy_crawl(
        "feeds", tmp_path / "c.db", settings=_allowed(server), feeds=server.url("/feed.rss")
    )
    assert result.returncode == 0, result.stderr[-2000:]
    stored = {r["fetched_url"] for r in result.rows("select fetched_url from articles")}
    assert stored == {server.url("/ok/1"), server.url("/ok/2")}
    rows = {r["url"]: r for r in result.rows("select url, stage, reason from failures")}
    assert set(rows) == {BROKEN_IPV6, BAD_PORT}
    assert rows[BROKEN_IPV6]["stage"] == "parse"
    assert "IPv6" in rows[BROKEN_IPV6]["reason"]
    assert server.url("/feed.rss") in rows[BROKEN_IPV6]["reason"]  # where it was listed
    assert "port" in rows[BAD_PORT]["reason"]


def test_a_sitemap_with_an_unusable_link_keeps_its_good_entries(server, tmp_path):
    result = scrapy_crawl(
        "sitemaps",
        tmp_path / "c.db",
        settings=_allowed(server),
        sitemaps=server.url("/sitemap.xml"),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    stored = {r["fetched_url"] for r in result.rows("select fetched_url from articles")}
    assert stored == {server.url("/ok/3"), server.url("/ok/4")}
    (row,) = result.rows("select url, stage, reason from failures")
    assert row["url"] == BROKEN_IPV6 and row["stage"] == "parse"
    assert "not a valid URL" in row["reason"] and "sitemap" in row["reason"]


def test_bad_entries_of_a_url_list_lose_nothing_after_them(server, tmp_path):
    long_url = server.url("/h/long?q=" + "x" * 3000)
    listing = [server.url("/ok/1"), BAD_PORT, server.url("/ok/2"), BROKEN_IPV6, long_url]
    listing.append(server.url("/ok/3"))
    url_file = tmp_path / "urls.txt"
    url_file.write_text("\n".join(listing) + "\n", encoding="utf-8")
    result = scrapy_crawl("urls", tmp_path / "c.db", settings=_allowed(server), file=str(url_file))
    assert result.returncode == 0, result.stderr[-2000:]
    stored = {r["fetched_url"] for r in result.rows("select fetched_url from articles")}
    assert stored == {server.url(f"/ok/{i}") for i in (1, 2, 3)}
    rows = {r["url"]: r for r in result.rows("select url, stage, reason from failures")}
    assert set(rows) == {BAD_PORT, BROKEN_IPV6, long_url}
    assert rows[BAD_PORT]["stage"] == rows[BROKEN_IPV6]["stage"] == "parse"
    assert "port is out of range" in rows[BAD_PORT]["reason"]
    assert "URLLENGTH_LIMIT" in rows[long_url]["reason"]
    assert result.rows("select finish_reason from crawls") == [{"finish_reason": "finished"}]


def _without_root_override() -> None:
    """In the child, before exec: drop the capabilities that let root write a
    file whatever its mode (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH) from the
    bounding set, so that the exec'd crawl, still uid 0, obeys mode 444."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def test_a_read_only_corpus_exits_2_with_one_line(tmp_path):
    db_path = tmp_path / "readonly.db"
    open_database(db_path).close()
    db_path.chmod(0o444)
    argv = scrapy_argv(
        "crawl", "urls", "-s", f"CORPUS_DB={db_path}", "-a", "urls=http://127.0.0.1:1/x"
    )
    # As root, mode 444 stops no write: the crawl runs without root's override.
    preexec = _without_root_override if os.geteuid() == 0 else None
    proc = subprocess.run(
        argv, cwd=ROOT, capture_output=True, text=True, timeout=120, preexec_fn=preexec
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "cannot write to CORPUS_DB" in lines[0] and "readonly" in lines[0]


def test_a_loopback_proxy_is_refused_by_name_and_allowed_alone(server, tmp_path, monkeypatch):
    proxy = f"127.0.0.1:{server.port}"
    monkeypatch.setenv("http_proxy", f"http://{proxy}")
    target = "http://93.184.215.14/story"  # a public address: only the proxy is asked
    refused = scrapy_crawl(
        "urls", tmp_path / "a.db", settings={"ROBOTSTXT_OBEY": False}, urls=target
    )
    (row,) = refused.rows("select url, stage, reason from failures")
    assert row["url"] == target and row["stage"] == "download"
    assert f"the proxy http://{proxy}" in row["reason"]
    assert f"ALLOW_PRIVATE_HOSTS={proxy}" in row["reason"]
    allowed = scrapy_crawl(
        "urls",
        tmp_path / "b.db",
        settings={"ROBOTSTXT_OBEY": False, "ALLOW_PRIVATE_HOSTS": proxy, "CLEAN_WORKERS": 0},
        urls=target,
    )
    assert allowed.rows("select fetched_url from articles") == [{"fetched_url": target}]


def test_local_files_are_bounded_and_a_corrupt_gzip_says_so(tmp_path):
    folder = tmp_path / "files"
    folder.mkdir()
    good = (SEEDS / sorted(p.name for p in SEEDS.glob("*.txt"))[0]).read_bytes()
    (folder / "good.txt").write_bytes(good)
    (folder / "big.txt").write_bytes(b"A sentence of a long local file.\n" * 20_000)
    whole = gzip.compress(b"<html><body><p>" + b"word " * 400 + b"</p></body></html>")
    (folder / "cut.html.gz").write_bytes(whole[: len(whole) // 2])
    (folder / "bomb.html.gz").write_bytes(gzip.compress(b" " * 3_000_000))
    result = scrapy_crawl(
        "files",
        tmp_path / "c.db",
        settings={"DOWNLOAD_MAXSIZE": 200_000, "CLEAN_WORKERS": 0},
        path=str(folder),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    rows = {Path(r["url"]).name: r for r in result.rows("select url, stage, reason from failures")}
    assert set(rows) == {"big.txt", "cut.html.gz", "bomb.html.gz"}
    assert "DOWNLOAD_MAXSIZE" in rows["big.txt"]["reason"]
    assert "corrupt gzip" in rows["cut.html.gz"]["reason"]
    assert "truncated" in rows["cut.html.gz"]["reason"]
    assert "DOWNLOAD_MAXSIZE" in rows["bomb.html.gz"]["reason"]
    assert len(result.rows("select id from articles")) == 1


def _orphan_fork_servers() -> list[int]:
    """Fork servers of this checkout whose parent is gone (init adopted them)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if "multiprocessing.forkserver" in cmd and str(ROOT) in cmd and ppid == 1:
            found.append(int(entry.name))
    return found


def test_scrapy_crawl_returns_only_when_its_cleaning_workers_are_gone(tmp_path):
    """Run as a scheduler would: output to a file, not a pipe (a pipe held open
    by a leftover process would make the wait itself last until it is gone)."""
    before = set(_orphan_fork_servers())
    argv = scrapy_argv(
        "crawl",
        "files",
        "-s",
        f"CORPUS_DB={tmp_path / 'c.db'}",
        "-s",
        "CLEAN_WORKERS=2",
        "-a",
        f"path={SEEDS}",
    )
    with open(tmp_path / "log.txt", "wb") as log:
        proc = subprocess.run(argv, cwd=ROOT, stdout=log, stderr=log, timeout=180)
    left = set(_orphan_fork_servers()) - before
    assert proc.returncode == 0, (tmp_path / "log.txt").read_text()[-2000:]
    assert left == set()
