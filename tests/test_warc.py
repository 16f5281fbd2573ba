"""The pure parts of WARC ingest: filters, record iteration, listings, progress,
and the corpus keeping a file's progress with the rows it stands for."""

from __future__ import annotations

import gzip
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crawler.archives.filters import RecordFilter, parse_hosts
from crawler.archives.progress import FileProgress, Progress
from crawler.archives.reader import BackgroundReader
from crawler.archives.records import read_records
from crawler.archives.sources import (
    Access,
    SourceError,
    ccnews_listings,
    expand_paths,
    listing_entries,
    open_at,
    parse_months,
    read_listing,
)
from crawler.items import Article, Failure
from crawler.storage import archives as saved
from crawler.storage.corpus import Corpus
from tests import warcs

URL = "https://news.example/2024/01/story-{}.html"


def page(i: int, **kw) -> warcs.Rec:
    body = warcs.article_html(f"Story number {i}", warcs.story_paragraphs(i))
    return warcs.response(URL.format(i), body, **kw)


def odd_records() -> list[warcs.Rec]:
    """Every kind of record a reader must count and step over."""
    cut = page(90)
    cut.headers["WARC-Truncated"] = "length"
    return [
        warcs.warcinfo(),
        warcs.request(URL.format(0)),
        page(0),
        warcs.metadata(URL.format(0)),
        warcs.revisit(URL.format(0)),
        warcs.response("https://news.example/logo.png", b"\x89PNG\r\n", content_type="image/png"),
        warcs.response("https://news.example/moved", b"", status=301),
        warcs.response("https://news.example/gone", b"<html>gone</html>", status=404),
        cut,
        warcs.Rec("resource", b"hello", {"WARC-Target-URI": "file:///x.txt"}),
        warcs.Rec("response", b"not an http message at all", {"WARC-Target-URI": URL.format(91)}),
        page(1, version="WARC/1.1"),
    ]


def local(path: Path):
    return lambda offset: open_at(str(path), offset, Access())


def kinds(path: Path, **kw) -> list[tuple[str, str | None]]:
    return [(r.kind, r.url) for r in read_records(local(path), **kw)]


# --- filters ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://example.com/a", True),
        ("https://www.example.com/a", True),
        ("https://news.example.com/a", True),
        ("http://EXAMPLE.com:8080/a", True),
        ("https://badexample.com/a", False),
        ("https://example.com.evil.org/a", False),
        ("https://other.org/a", True),
        ("https://www.other.org/a", True),
        ("https://blog.other.org/a", True),
        ("not a url", False),
    ],
)
def test_hosts_are_exact_hosts_or_parent_domains(url, kept):
    keep = RecordFilter.parse(hosts="example.com, www.other.org")
    assert keep.host_kept(url) is kept


def test_dates_include_both_days_and_reject_bad_input():
    keep = RecordFilter.parse(since="2024-01-10", until="2024-01-12")
    at = lambda d: datetime.fromisoformat(d).replace(tzinfo=UTC)  # noqa: E731
    assert not keep.date_kept(at("2024-01-09T23:59:59"))
    assert keep.date_kept(at("2024-01-10T00:00:00"))
    assert keep.date_kept(at("2024-01-12T23:59:59"))
    assert not keep.date_kept(at("2024-01-13T00:00:00"))
    assert not keep.date_kept(None)
    assert RecordFilter().date_kept(None)
    with pytest.raises(ValueError):
        RecordFilter.parse(since="last tuesday")
    with pytest.raises(ValueError):
        RecordFilter.parse(since="2024-02-01", until="2024-01-01")
    with pytest.raises(ValueError):
        parse_hosts("example.com,,")


# --- records ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["odd.warc.gz", "odd.warc"])
def test_every_record_is_named_and_only_html_200_pages_carry_a_payload(tmp_path, name):
    path = warcs.write(tmp_path / name, odd_records())
    records = list(read_records(local(path), gzipped=name.endswith(".gz")))
    assert [r.kind for r in records] == [
        "warcinfo",
        "request",
        "page",
        "metadata",
        "revisit",
        "not_html",
        "status_3xx",
        "status_4xx",
        "truncated",
        "resource",
        "not_http",
        "page",
    ]
    pages = [r for r in records if r.kind == "page"]
    assert [p.url for p in pages] == [URL.format(0), URL.format(1)]
    assert pages[0].body == warcs.article_html("Story number 0", warcs.story_paragraphs(0))
    assert pages[0].date == "2024-01-15T10:00:00+00:00"
    assert pages[0].content_type == "text/html; charset=utf-8"
    assert pages[0].charset == "utf-8"
    assert all(not r.body for r in records if r.kind != "page")
    assert "WARC-Truncated" in (records[8].reason or "")
    # offsets are where each record starts: reading from one starts there
    offsets = [r.offset for r in records]
    assert offsets == sorted(offsets) and offsets[0] == 0
    again = list(read_records(local(path), start=offsets[5], gzipped=name.endswith(".gz")))
    assert [r.offset for r in again] == offsets[5:]


def test_filters_skip_records_before_their_payload_is_read(tmp_path):
    recs = [
        page(1, date="2024-01-05T10:00:00Z"),
        warcs.response("https://www.other.org/x", b"<html>x</html>"),
        page(2, date="2024-01-20T10:00:00Z"),
        page(3, date="2024-01-12T10:00:00Z"),
    ]
    path = warcs.write(tmp_path / "f.warc.gz", recs)
    keep = RecordFilter.parse(hosts="news.example", since="2024-01-10", until="2024-01-15")
    assert [k for k, _ in kinds(path, keep=keep)] == ["date", "host", "date", "page"]


def test_a_file_cut_short_ends_in_a_truncated_record(tmp_path):
    path = warcs.write(tmp_path / "f.warc.gz", [page(1), page(2)])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 120])
    got = list(read_records(local(path)))
    assert [r.kind for r in got[:2]] == ["page", "truncated"]
    assert "ends inside this record" in (got[1].reason or "")


@pytest.mark.parametrize(
    "raw",
    [
        b"WARC/1.0\r\nno header here\r\n\r\nzz\r\n\r\n",
        b"WARC/1.0\r\nthis is not a header line\r\nContent-Length: zz\r\n\r\nblah\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n\r\n<html></html>",
    ],
)
def test_an_unreadable_record_is_reported_with_its_offset_and_reading_goes_on(tmp_path, raw):
    garbled = warcs.Rec("response", b"", raw=raw)
    path = warcs.write(tmp_path / "f.warc.gz", [page(1), garbled, page(2)])
    members = [0]
    for rec in (page(1), garbled):
        members.append(members[-1] + len(gzip.compress(rec.to_bytes(), 6, mtime=0)))
    got = list(read_records(local(path)))
    assert [r.kind for r in got] == ["page", "unreadable", "page"]
    assert got[1].offset == members[1]
    assert f"byte offset {members[1]}" in (got[1].reason or "")
    assert got[2].offset == members[2] and got[2].url == URL.format(2)


def test_garbage_between_members_is_stepped_over(tmp_path):
    path = tmp_path / "f.warc.gz"
    one = gzip.compress(page(1).to_bytes(), 6, mtime=0)
    two = gzip.compress(page(2).to_bytes(), 6, mtime=0)
    path.write_bytes(one + b"\x1f\x8b\x08 garbage, not a gzip member" + two)
    got = list(read_records(local(path)))
    assert [r.kind for r in got] == ["page", "unreadable", "page"]
    assert got[2].url == URL.format(2)


def test_resumed_records_are_skipped_unread(tmp_path):
    path = warcs.write(tmp_path / "f.warc.gz", [page(1), page(2), page(3)])
    offsets = [r.offset for r in read_records(local(path))]
    got = list(read_records(local(path), start=offsets[1], skip=frozenset({offsets[2]})))
    assert [(r.kind, r.offset) for r in got] == [("page", offsets[1]), ("resumed", offsets[2])]


def test_the_background_reader_hands_over_batches_then_none(tmp_path, monkeypatch):
    monkeypatch.setattr("crawler.archives.reader.BATCH_RECORDS", 2)
    path = warcs.write(tmp_path / "f.warc.gz", [page(i) for i in range(5)])
    reader = BackgroundReader(local(path)).start()
    sizes = []
    while (batch := reader.get()) is not None:
        assert isinstance(batch, list)
        sizes.append(len(batch))
    assert sizes == [2, 2, 1]
    failing = BackgroundReader(local(tmp_path / "missing.warc.gz")).start()
    assert isinstance(failing.get(), FileNotFoundError)


# --- listings -----------------------------------------------------------------


def test_listing_entries_resolve_against_the_base_url():
    text = b"crawl-data/CC-NEWS/2024/01/a.warc.gz\n\nhttps://mirror.example/b.warc.gz\n"
    for data in (text, gzip.compress(text)):
        assert listing_entries(data, "http://127.0.0.1:9/cc") == [
            "http://127.0.0.1:9/cc/crawl-data/CC-NEWS/2024/01/a.warc.gz",
            "https://mirror.example/b.warc.gz",
        ]


def test_ccnews_months():
    assert parse_months("2023-11..2024-02") == [(2023, 11), (2023, 12), (2024, 1), (2024, 2)]
    assert ccnews_listings("2024-01", "https://data.commoncrawl.org/") == [
        "https://data.commoncrawl.org/crawl-data/CC-NEWS/2024/01/warc.paths.gz"
    ]
    for bad in ("2024", "2024-13", "2016-07", "2024-03..2024-01", "jan"):
        with pytest.raises(SourceError):
            parse_months(bad)


def test_paths_expand_folders_and_refuse_what_is_not_a_warc(tmp_path):
    warcs.write(tmp_path / "b.warc.gz", [page(1)])
    (tmp_path / "sub").mkdir()
    warcs.write(tmp_path / "sub" / "a.warc", [page(2)])
    (tmp_path / "notes.txt").write_text("x")
    assert [Path(p).name for p in expand_paths(str(tmp_path))] == ["b.warc.gz", "a.warc"]
    for bad in (str(tmp_path / "notes.txt"), str(tmp_path / "nope.warc"), ""):
        with pytest.raises(SourceError):
            expand_paths(bad)


def test_remote_listings_and_files_are_streamed_with_range_and_survive_a_broken_connection(
    tmp_path,
):
    tree = tmp_path / "crawl-data" / "CC-NEWS" / "2024" / "01"
    tree.mkdir(parents=True)
    path = warcs.write(tree / "CC-NEWS-1.warc.gz", [page(i) for i in range(20)])
    (tree / "warc.paths.gz").write_bytes(
        gzip.compress(b"crawl-data/CC-NEWS/2024/01/CC-NEWS-1.warc.gz\n")
    )
    with warcs.ArchiveServer(tmp_path) as server:
        access = Access(allow_private=True)
        (listing,) = ccnews_listings("2024-01", server.base)
        (url,) = read_listing(listing, access, server.base)
        server.break_once["/crawl-data/CC-NEWS/2024/01/CC-NEWS-1.warc.gz"] = (
            path.stat().st_size // 2
        )
        got = list(read_records(lambda o: open_at(url, o, access)))
        assert [r.url for r in got] == [URL.format(i) for i in range(20)]
        ranges = [r for p, r in server.requests if p.endswith("CC-NEWS-1.warc.gz")]
        assert ranges[0] is None and ranges[1] == f"bytes={path.stat().st_size // 2}-"
        # and a private address is refused unless allowed
        with pytest.raises(OSError, match="ALLOW_PRIVATE_NETWORKS"):
            open_at(url, 0, Access())


# --- progress -----------------------------------------------------------------


def test_progress_only_passes_records_that_are_done():
    p = FileProgress("f")
    p.read(0, False)  # warcinfo
    p.read(10, True)
    p.read(20, True)
    p.read(30, False)
    p.read(40, True)
    assert p.snapshot() == Progress("f", 10, frozenset(), False)
    p.finished(20)
    p.finished(40)
    assert p.snapshot() == Progress("f", 10, frozenset({20, 40}), False)
    p.finished(10)
    assert p.snapshot() == Progress("f", 40, frozenset({40}), False)
    p.end_of_file()
    assert p.snapshot().finished
    resumed = FileProgress.resume(Progress("f", 10, frozenset({20})), "f")
    assert (resumed.start, resumed.done) == (10, {20})


def test_a_lost_outcome_keeps_the_progress_where_it_was():
    p = FileProgress("f")
    p.read(10, True)
    p.read(20, True)
    p.failed(10)
    p.finished(20)
    p.end_of_file()
    assert p.snapshot() == Progress("f", 10, frozenset(), False)


def article(i: int) -> Article:
    text = " ".join(warcs.story_paragraphs(i))
    return Article(url=URL.format(i), title=f"Story {i}", text=text, content_hash=f"h{i}")


def test_progress_commits_with_the_rows_it_stands_for(tmp_path):
    db = tmp_path / "corpus.db"
    corpus = Corpus(db, batch_size=3)
    corpus.start_crawl("warc", {})
    corpus.add_article(article(1))
    corpus.queue_with_batch(
        "f", saved.writer(Progress("f", 100, frozenset({120})), corpus.crawl_id)
    )
    # nothing is committed before the batch is
    assert saved.load(db, ["f"]) == {}
    corpus.add_failure(Failure("https://news.example/x", "validate", "too short"))
    corpus.add_article(article(2))  # the third row: the batch is written
    assert saved.load(db, ["f"]) == {"f": Progress("f", 100, frozenset({120}), False)}
    # a later snapshot replaces a waiting one; a progress row alone is written too
    corpus.queue_with_batch("f", saved.writer(Progress("f", 150), corpus.crawl_id))
    corpus.queue_with_batch("f", saved.writer(Progress("f", 200, finished=True), corpus.crawl_id))
    corpus.close()
    assert saved.load(db, ["f", "g"]) == {"f": Progress("f", 200, frozenset(), True)}
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == 2
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_failed_batch_takes_its_progress_with_it(tmp_path):
    db = tmp_path / "corpus.db"
    corpus = Corpus(db, batch_size=10)
    corpus.start_crawl("warc", {})
    corpus.add_article(article(1))
    corpus.queue_with_batch("f", lambda d: d.execute("INSERT INTO nowhere VALUES (1)"))
    with pytest.raises(sqlite3.OperationalError):
        corpus.flush()
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == 0


def test_a_payload_that_cannot_be_decoded_is_unreadable_and_the_next_record_reads(tmp_path):
    block = warcs.http_block(b"\x00 not gzip at all", extra={"Content-Encoding": "gzip"})
    bad = warcs.Rec("response", block, {"WARC-Target-URI": URL.format(5)})
    path = warcs.write(tmp_path / "f.warc.gz", [bad, page(6)])
    got = list(read_records(local(path)))
    assert [(r.kind, r.url) for r in got] == [
        ("unreadable", URL.format(5)),
        ("page", URL.format(6)),
    ]
