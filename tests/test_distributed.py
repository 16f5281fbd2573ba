"""Scale-out on Redis (crawler.scaleout): codec, drain, add-on, and two real workers.

Needs a real ``redis-server`` (tests/redis_server.py); without one these
tests fail and say how to install it.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlite_utils
from scrapy import Request
from scrapy.settings import Settings
from scrapy.utils.request import request_from_dict

from crawler.items import Article, Failure
from crawler.scaleout.addon import DistributedAddon
from crawler.scaleout.channel import Outbox
from crawler.scaleout.codec import (
    CODEC,
    DistributedError,
    InvalidMessage,
    Keys,
    Message,
    decode_message,
    encode_message,
)
from crawler.scaleout.drain import Drainer, drain
from crawler.storage.corpus import Corpus
from tests.helpers import ROOT, article, scrapy_argv

# --- the codec ------------------------------------------------------------------

ARTICLE = Article(
    url="https://news.example/2024/05/budget",
    title="Budget passes — narrowly",
    text="Το κείμενο. " * 30,
    content_hash="ab12",
    author="Ana Ruiz",
    published="2024-05-02T10:00:00+00:00",
    site="news.example",
    language="el",
    description="A close vote",
    word_count=60,
    canonical_url=None,
    fetched_url="https://news.example/2024/05/budget?utm=x",
)
FAILURE = Failure(
    url="https://news.example/gone",
    stage="download",
    reason="the server answered HTTP 410 (Gone)",
    http_status=410,
)


@pytest.mark.parametrize("item", [ARTICLE, FAILURE, Article("u", "t", "x", "h")])
def test_items_round_trip_as_tagged_json(item):
    kind = "article" if isinstance(item, Article) else "failure"
    raw = encode_message(Message(kind, "w1", 7, "urls", item))
    assert json.loads(raw)["type"] == kind  # plain JSON, readable with redis-cli
    msg = decode_message(raw)
    assert (msg.kind, msg.worker, msg.seq, msg.spider, msg.item) == (kind, "w1", 7, "urls", item)


def test_crawl_messages_round_trip():
    stats = {"start_time": datetime(2024, 5, 2, tzinfo=UTC), "item_scraped_count": 3}
    msg = decode_message(
        encode_message(
            Message("crawl_finish", "w", 9, "feeds", data={"reason": "finished", "stats": stats})
        )
    )
    assert msg.data == {
        "reason": "finished",
        "stats": {"start_time": "2024-05-02 00:00:00+00:00", "item_scraped_count": 3},
    }


def test_unknown_item_fields_from_a_newer_worker_are_ignored():
    raw = json.dumps(
        {
            "type": "failure",
            "worker": "w",
            "seq": 1,
            "spider": "s",
            "item": {"url": "u", "stage": "parse", "reason": "r", "new_field": 1},
        }
    )
    assert decode_message(raw).item == Failure("u", "parse", "r")


@pytest.mark.parametrize(
    "raw, why",
    [
        (b"\x80not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"type": "pickle", "worker": "w", "seq": 1}', "unknown message type"),
        (b'{"type": "article", "seq": 1}', "missing worker"),
        (b'{"type": "article", "worker": "w", "seq": 1, "item": {"url": "u"}}', "article:"),
        (b'{"type": "failure", "worker": "w", "seq": 1, "item": "x"}', "not an object"),
    ],
)
def test_invalid_messages_say_why(raw, why):
    with pytest.raises(InvalidMessage, match=why):
        decode_message(raw)


def test_requests_round_trip_without_pickle():
    request = Request(
        "https://news.example/a?b=1,2",
        method="POST",
        body=b"\x00\xffbody",
        headers={"Accept": "text/html", "X-Bin": b"\xfe"},
        priority=-3,
        dont_filter=True,
        meta={
            "is_start_request": True,
            "when": datetime(2024, 1, 2, tzinfo=UTC),
            "$odd": {1: (2, 3)},
        },
        cb_kwargs={"hints": {"title": "Budget", "published": "2024-05-02"}},
    )
    data = CODEC.dumps(request.to_dict())
    assert b"pickle" not in data and json.loads(data)
    back = request_from_dict(CODEC.loads(data))
    for attr in ("url", "method", "body", "priority", "dont_filter", "cb_kwargs", "meta"):
        expected = getattr(request, attr)
        if attr == "meta":
            expected = {**expected, "$odd": {1: [2, 3]}}  # tuples come back as lists
        assert getattr(back, attr) == expected, attr
    assert back.headers.getlist("X-Bin") == [b"\xfe"]


def test_unserialisable_values_are_refused_loudly():
    with pytest.raises(TypeError, match="cannot store a object"):
        CODEC.dumps({"x": object()})


# --- the add-on ----------------------------------------------------------------------


def _settings(**overrides: str) -> Settings:
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    for key, value in overrides.items():
        settings.set(key, value, "cmdline")
    DistributedAddon().update_settings(settings)
    return settings


def test_addon_is_off_by_default():
    settings = _settings()
    assert settings.get("SCHEDULER") == "scrapy.core.scheduler.Scheduler"
    assert settings.getdict("ITEM_PIPELINES")["crawler.pipelines.corpus.CorpusPipeline"] == 800


def test_one_setting_turns_scale_out_on():
    settings = _settings(CORPUS_REDIS_URL="redis://10.0.0.5:6379/2", CORPUS_REDIS_KEY="nightly")
    assert settings.get("SCHEDULER") == "crawler.scaleout.scheduler.RedisScheduler"
    assert settings.get("DUPEFILTER_CLASS") == "crawler.scaleout.dupefilter.RedisDupeFilter"
    assert settings.getbool("SCHEDULER_PERSIST") is True
    assert settings.get("REDIS_URL") == "redis://10.0.0.5:6379/2"
    assert settings.get("SCHEDULER_QUEUE_KEY") == "nightly:%(spider)s:requests"
    assert settings.get("SCHEDULER_DUPEFILTER_KEY") == "nightly:%(spider)s:dupefilter"
    pipes = settings.getdict("ITEM_PIPELINES")
    assert pipes["crawler.pipelines.corpus.CorpusPipeline"] is None
    assert pipes["crawler.scaleout.pipeline.RedisItemPipeline"] == 800
    assert pipes["crawler.pipelines.extract.ExtractPipeline"] == 300  # cleaning stays on workers
    assert "crawler.scaleout.spidermiddleware.ClaimStartMiddleware" in settings.getdict(
        "SPIDER_MIDDLEWARES"
    )
    assert "crawler.scaleout.extension.SharedQueueIdle" in settings.getdict("EXTENSIONS")


@pytest.mark.parametrize(
    "overrides, why",
    [
        ({"CORPUS_REDIS_URL": "10.0.0.5:6379"}, "must start with redis://"),
        ({"CORPUS_REDIS_URL": "redis://h", "CORPUS_REDIS_KEY": "50%"}, "must not contain"),
    ],
)
def test_a_mistyped_setting_is_an_error_not_a_local_crawl(overrides, why):
    with pytest.raises(DistributedError, match=why):
        _settings(**overrides)


# --- the drain, on a real Redis -------------------------------------------------------


def _push_crawl(client, keys: Keys, worker: str, items: list) -> Outbox:
    out = Outbox(client, keys, worker, "urls")
    out.push("crawl_start", args={"file": "list.txt"}, at="2024-05-02T10:00:00+00:00")
    for item in items:
        out.push("article" if isinstance(item, Article) else "failure", item)
    out.push(
        "crawl_finish",
        reason="finished",
        stats={"item_scraped_count": len(items)},
        at="2024-05-02T10:05:00+00:00",
    )
    return out


def _article(n: int) -> Article:
    return article(f"https://news.example/{n}", f"Text of story {n}. " * 30, title=f"Story {n}")


def test_drain_writes_crawls_and_items_in_batches(redis_client, tmp_path):
    keys = Keys("t")
    _push_crawl(redis_client, keys, "w1", [_article(1), _article(2), FAILURE, _article(1)])
    _push_crawl(redis_client, keys, "w2", [_article(3)])
    redis_client.rpush(keys.items, b"garbage")
    corpus = Corpus(tmp_path / "c.db")
    report = drain(redis_client, corpus, keys, idle=0, batch_size=3, poll=0.01)
    corpus.close()
    assert report.messages == 10 and report.invalid == 1 and report.crawls_finished == 2
    assert redis_client.llen(keys.items) == 0
    assert redis_client.lrange(keys.invalid, 0, -1) == [b"garbage"]
    db = sqlite_utils.Database(tmp_path / "c.db")
    crawls = list(db.query("select * from crawls order by id"))
    assert [(c["spider"], c["args"], c["finish_reason"]) for c in crawls] == [
        ("urls", '{"file": "list.txt"}', "finished")
    ] * 2
    assert crawls[0]["started_at"] == "2024-05-02T10:00:00+00:00"  # the worker's times
    assert crawls[0]["finished_at"] == "2024-05-02T10:05:00+00:00"
    stats = json.loads(crawls[0]["stats"])
    assert stats["corpus/articles/stored"] == 2 and stats["corpus/failures/download"] == 1
    assert stats["corpus/skipped/known"] == 1 and stats["corpus/worker"] == "w1"
    assert stats["item_scraped_count"] == 4
    rows = list(db.query("select url, crawl_id from articles order by url"))
    assert [(r["url"], r["crawl_id"]) for r in rows] == [
        ("https://news.example/1", crawls[0]["id"]),
        ("https://news.example/2", crawls[0]["id"]),
        ("https://news.example/3", crawls[1]["id"]),
    ]
    assert db["failures"].count == 1


def test_the_drain_records_the_requested_url_of_a_redirect(redis_client, tmp_path):
    """A worker's article reached through a redirect: the URL asked for is a
    ``url`` duplicate of it in the drained corpus, as in a local crawl."""
    keys = Keys("t")
    moved = article(
        "https://news.example/new",
        "Text of a moved story. " * 30,
        requested_url="https://news.example/old",
    )
    _push_crawl(redis_client, keys, "w1", [moved])
    corpus = Corpus(tmp_path / "c.db")
    drain(redis_client, corpus, keys, idle=0, batch_size=3, poll=0.01)
    corpus.close()
    db = sqlite_utils.Database(tmp_path / "c.db")
    (kept,) = db.query("select id from articles where url = 'https://news.example/new'")
    (dup,) = db.query("select url, article_id, kind from duplicates")
    assert dup == {"url": "https://news.example/old", "article_id": kept["id"], "kind": "url"}


def test_a_batch_read_again_after_a_crash_is_not_written_twice(redis_client, tmp_path):
    """Killed after the commit, before the trim: the restarted drain skips what it wrote."""
    keys = Keys("t")
    out = Outbox(redis_client, keys, "w1", "urls")
    out.push("crawl_start", args={}, at="2024-05-02T10:00:00+00:00")
    out.push("article", _article(1))
    out.push("failure", FAILURE)
    corpus = Corpus(tmp_path / "c.db")
    first = Drainer(redis_client, corpus, keys, batch_size=10)
    snapshot = redis_client.lrange(keys.items, 0, -1)
    assert first.step() == 3
    corpus.close()
    # The crash: the batch is back in the list as if never trimmed, plus new work.
    redis_client.rpush(keys.items, *snapshot)
    redis_client.set(keys.drain_inflight, len(snapshot))
    out.push("article", _article(2))
    out.push("crawl_finish", reason="finished", stats={}, at="2024-05-02T10:05:00+00:00")
    corpus = Corpus(tmp_path / "c.db")
    report = drain(redis_client, corpus, keys, idle=0, batch_size=2, poll=0.01)
    corpus.close()
    assert report.replayed == 3 and report.messages == 5
    db = sqlite_utils.Database(tmp_path / "c.db")
    assert db["crawls"].count == 1 and db["articles"].count == 2 and db["failures"].count == 1
    stats = json.loads(next(db.query("select stats from crawls"))["stats"])
    assert stats["corpus/articles/stored"] == 2 and stats["corpus/failures/download"] == 1


def test_one_drain_per_key(redis_client, tmp_path):
    corpus = Corpus(tmp_path / "c.db")
    first = Drainer(redis_client, corpus, Keys("t"))
    first.acquire()
    with pytest.raises(DistributedError, match="another drain holds"):
        drain(redis_client, corpus, Keys("t"), idle=0)
    first.release()
    drain(redis_client, corpus, Keys("t"), idle=0)  # free again
    drain(redis_client, corpus, Keys("other"), idle=0)
    corpus.close()


def test_drain_waits_for_a_live_worker_then_stops(redis_client, tmp_path):
    keys = Keys("t")
    out = Outbox(redis_client, keys, "w1", "urls")
    out.heartbeat()
    out.push("crawl_start", args={}, at="2024-05-02T10:00:00+00:00")
    ticks = iter(range(1000))
    finished = []

    def sleep(_: float) -> None:  # the worker finishes while the drain idles
        if not finished and next(ticks) > 5:
            out.push("crawl_finish", reason="finished", stats={}, at="2024-05-02T10:05:00+00:00")
            out.leave(clear_if_last=True)
            finished.append(1)

    clock = iter(float(i) for i in range(10_000))
    corpus = Corpus(tmp_path / "c.db")
    report = drain(
        redis_client, corpus, keys, idle=1, poll=0, clock=lambda: next(clock), sleep=sleep
    )
    corpus.close()
    assert finished and report.crawls_finished == 1


def test_last_worker_out_clears_the_frontier(redis_client):
    keys = Keys("t")
    a, b = (Outbox(redis_client, keys, w, "urls") for w in ("a", "b"))
    a.heartbeat()
    b.heartbeat()
    redis_client.sadd(keys.dupefilter("urls"), "fp")
    assert a.leave(clear_if_last=True) is False  # b still works
    assert redis_client.exists(keys.dupefilter("urls"))
    assert b.leave(clear_if_last=False) is False  # interrupted: keep it for a resume
    assert redis_client.exists(keys.dupefilter("urls"))
    b.heartbeat()
    redis_client.zadd(keys.requests("urls"), {"req": 0})
    assert b.leave(clear_if_last=True) is False  # work left in the queue
    redis_client.delete(keys.requests("urls"))
    b.heartbeat()
    assert b.leave(clear_if_last=True) is True
    assert not redis_client.exists(keys.dupefilter("urls"), keys.workers("urls"))


# --- two real workers and one drain ---------------------------------------------------------

PAGES = 30
TOPICS = [
    "harbour",
    "railway",
    "library",
    "hospital",
    "school",
    "bridge",
    "market",
    "theatre",
    "stadium",
    "airport",
]


def article_html(n: int, base: str) -> bytes:
    topic = TOPICS[n % len(TOPICS)]
    paras = "".join(
        f"<p>Paragraph {p} of report {n}: the council met on Tuesday to debate the {topic} "
        f"plan number {n * 7 + p}, and residents of ward {n} asked how the {topic} would be "
        f"paid for, who would run it, and when the first phase would open to the public.</p>"
        for p in range(4)
    )
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Council backs {topic} plan {n} | City Post</title>"
        f"<link rel='canonical' href='{base}/news/story-{n}.html'>"
        f"<meta name='author' content='Reporter {n}'>"
        f"<meta property='article:published_time' content='2024-05-{n % 28 + 1:02d}T09:00:00Z'>"
        f"</head><body><nav><a href='/'>Home</a> <a href='/news/'>News</a></nav>"
        f"<article><h1>Council backs {topic} plan {n}</h1>{paras}</article>"
        f"<footer>© City Post</footer></body></html>"
    ).encode()


class _Site(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.base = f"http://127.0.0.1:{self.server_address[1]}"
        self.log: list[str] = []
        self.lock = threading.Lock()
        #: article pages wait until both workers have asked for robots.txt (each
        #: worker does, once): so neither can finish the list before the other starts.
        self.both_started = threading.Event()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Site

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        with self.server.lock:
            self.server.log.append(self.path)
            if self.server.log.count("/robots.txt") >= 2:
                self.server.both_started.set()
        if self.path == "/robots.txt":
            body, ctype = b"User-agent: *\nAllow: /\n", "text/plain"
        elif self.path.startswith("/news/story-"):
            self.server.both_started.wait(20)
            time.sleep(0.05)
            n = int(self.path.removeprefix("/news/story-").removesuffix(".html"))
            body, ctype = article_html(n, self.server.base), "text/html; charset=utf-8"
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _scrapy(*args: str, log: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONWARNINGS="error::DeprecationWarning:scrapy")
    return subprocess.Popen(
        scrapy_argv(*args),
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def _wait(proc: subprocess.Popen, log: Path, deadline: float) -> str:
    try:
        proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    return log.read_text(errors="replace")


@pytest.mark.e2e
def test_two_workers_share_the_frontier_and_one_drain_writes(
    redis_server,
    redis_client,
    tmp_path,
):
    server = _Site()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    urls = [f"{server.base}/news/story-{n}.html" for n in range(PAGES)]
    url_file = tmp_path / "urls.txt"
    url_file.write_text("\n".join(urls) + "\n")
    key = f"test-{uuid.uuid4().hex[:6]}"
    keys = Keys(key)
    db_path = tmp_path / "corpus.db"
    worker_args = [
        "crawl",
        "urls",
        "-a",
        f"file={url_file}",
        "-s",
        f"CORPUS_REDIS_URL={redis_server.url}",
        "-s",
        f"CORPUS_REDIS_KEY={key}",
        "-s",
        "ALLOW_PRIVATE_NETWORKS=True",
        "-s",
        "AUTOTHROTTLE_ENABLED=False",
        "-s",
        "CORPUS_REDIS_IDLE_CLOSE=1",
        "-s",
        "CLEAN_WORKERS=0",
        "-s",
        "CONCURRENT_REQUESTS=4",
    ]
    deadline = time.monotonic() + 60
    logs = [tmp_path / f"worker{i}.log" for i in (1, 2)]
    try:
        # Workers never write SQLite, but `scrapy crawl` checks that CORPUS_DB
        # opens: one file each (on many machines, each has its own anyway).
        workers = [
            _scrapy(*worker_args, "-s", f"CORPUS_DB={log.with_suffix('.db')}", log=log)
            for log in logs
        ]
        # The drain starts once both workers have said hello: with --idle 3 it
        # would otherwise stop before a slow-starting worker pushed anything.
        while (
            redis_client.llen(keys.items) < 2
            and time.monotonic() < deadline
            and all(w.poll() is None for w in workers)
        ):
            time.sleep(0.1)
        drain_log = tmp_path / "drain.log"
        drainer = _scrapy(
            "corpus",
            "drain",
            "--db",
            str(db_path),
            "--redis",
            redis_server.url,
            "--key",
            key,
            "--idle",
            "3",
            "--batch",
            "7",
            log=drain_log,
        )
        outputs = [_wait(w, log, deadline) for w, log in zip(workers, logs, strict=False)]
        drain_out = _wait(drainer, drain_log, deadline)
    finally:
        server.shutdown()
        server.server_close()

    for proc, out in zip(workers, outputs, strict=False):
        assert proc.returncode == 0, out[-3000:]
        assert "Traceback" not in out and "DeprecationWarning" not in out, out[-3000:]
    assert drainer.returncode == 0, drain_out[-3000:]
    assert "drained" in drain_out

    # Each article URL was fetched once in total, across both workers.
    fetched = [p for p in server.log if p.startswith("/news/")]
    assert sorted(fetched) == sorted(f"/news/story-{n}.html" for n in range(PAGES))

    db = sqlite_utils.Database(db_path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert sorted(r["url"] for r in db.query("select url from articles")) == sorted(urls)
    assert db["duplicates"].count == 0 and db["failures"].count == 0

    crawls = list(db.query("select * from crawls order by id"))
    assert len(crawls) == 2
    stats = [json.loads(c["stats"]) for c in crawls]
    assert {c["finish_reason"] for c in crawls} == {"finished"}
    assert all(c["finished_at"] for c in crawls)
    assert len({s["corpus/worker"] for s in stats}) == 2
    # Both did a share of the work, and the shares add up.
    shares = [s.get("distributed/pushed/article", 0) for s in stats]
    assert all(share > 0 for share in shares), shares
    assert sum(shares) == PAGES
    assert sum(s.get("corpus/articles/stored", 0) for s in stats) == PAGES
    assert all(s["response_received_count"] > 1 for s in stats)
    assert sum(s.get("distributed/start_claimed_elsewhere", 0) for s in stats) == PAGES
    # Each article row names the crawl of the worker that fetched it.
    per_crawl = {
        r["crawl_id"]: r["n"]
        for r in db.query("select crawl_id, count(*) n from articles group by crawl_id")
    }
    assert per_crawl == {c["id"]: share for c, share in zip(crawls, shares, strict=False)}

    # Nothing left behind in Redis: the last worker out cleared the frontier.
    assert redis_client.llen(keys.items) == 0
    assert not redis_client.exists(
        keys.requests("urls"), keys.dupefilter("urls"), keys.workers("urls"), keys.drain_lock
    )
    # The scheduler's health check reads the drained crawls like local ones.
    check = subprocess.run(
        scrapy_argv("corpus", "check", "--db", str(db_path)),
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout


def test_the_0_1_0_paths_still_work_in_a_users_settings():
    """Settings written for 0.1.0 name crawler.pipelines.CorpusPipeline and
    crawler.scaleout.distributed.*: the add-on still swaps the corpus pipeline
    out, and every old class path still loads."""
    from scrapy.utils.misc import load_object

    from crawler.pipelines.corpus import CorpusPipeline
    from crawler.scaleout.scheduler import RedisScheduler

    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set(
        "ITEM_PIPELINES",
        {"crawler.pipelines.ExtractPipeline": 300, "crawler.pipelines.CorpusPipeline": 800},
        "project",
    )
    settings.set("CORPUS_REDIS_URL", "redis://10.0.0.5:6379/2", "cmdline")
    load_object("crawler.scaleout.distributed.DistributedAddon")().update_settings(settings)
    pipes = settings.getdict("ITEM_PIPELINES")
    assert pipes["crawler.pipelines.CorpusPipeline"] is None
    assert pipes["crawler.scaleout.pipeline.RedisItemPipeline"] == 800
    assert pipes["crawler.pipelines.ExtractPipeline"] == 300
    assert load_object("crawler.pipelines.CorpusPipeline") is CorpusPipeline
    assert load_object("crawler.scaleout.distributed.RedisScheduler") is RedisScheduler
