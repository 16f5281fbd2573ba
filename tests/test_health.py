import json

from crawler.storage.health import Thresholds, check


def crawl(i, stats=None, reason="finished", finished=True, spider="feeds", args=None):
    return {
        "id": i,
        "spider": spider,
        "args": json.dumps(args or {"feeds": "https://a.test/rss"}),
        "started_at": f"2026-01-0{i}T00:00:00",
        "finished_at": "x" if finished else None,
        "finish_reason": reason if finished else None,
        "stats": json.dumps(stats or {}),
    }


GOOD = {"corpus/articles/stored": 5, "corpus/failures/download": 1}


def test_healthy_source():
    assert check([crawl(1, GOOD), crawl(2, GOOD)]) == []


def test_killed_crawl():
    [p] = check([crawl(1, GOOD), crawl(2, finished=False)])
    assert "never finished" in p.reason and p.source.startswith("feeds feeds=")


def test_abnormal_finish_reason():
    [p] = check([crawl(1, GOOD, reason="shutdown")])
    assert "'shutdown'" in p.reason


def test_error_rate():
    bad = {"corpus/articles/stored": 1, "corpus/failures/download": 9}
    [p] = check([crawl(1, bad)])
    assert "9 of 10 URLs failed" in p.reason
    assert check([crawl(1, bad)], Thresholds(max_error_rate=0.95)) == []


def test_nothing_new_for_n_runs():
    known = {"corpus/skipped/known": 10}
    runs = [crawl(1, GOOD), crawl(2, known), crawl(3, known)]
    assert check(runs, Thresholds(stale_runs=3)) == []
    [p] = check(runs + [crawl(4, known)], Thresholds(stale_runs=3))
    assert "no new article in the last 3 crawls" in p.reason


def test_sources_are_judged_separately():
    other = {"feeds": "https://b.test/rss"}
    runs = [crawl(1, GOOD), crawl(2, reason="shutdown", args=other), crawl(3, GOOD)]
    [p] = check(runs)
    assert "b.test" in p.source


def test_workers_of_one_scale_out_run_are_judged_together():
    busy = {"corpus/articles/stored": 9, "corpus/worker": 1, "response_received_count": 12}
    idle = {"corpus/worker": 1}  # a worker that found the shared queue already empty
    a = crawl(1, busy) | {"started_at": "2026-01-01T10:00:00", "finished_at": "2026-01-01T10:05:00"}
    b = crawl(2, idle) | {"started_at": "2026-01-01T10:00:01", "finished_at": "2026-01-01T10:04:00"}
    assert check([a, b]) == []
    # Alone, the idle worker's row would be a problem.
    assert "handled no URL" in check([b])[0].reason
    # Two runs that did not overlap stay separate.
    later = crawl(3, idle) | {
        "started_at": "2026-01-01T11:00:00",
        "finished_at": "2026-01-01T11:01:00",
    }
    assert "handled no URL" in check([a, later])[0].reason
