"""Is the corpus healthy? Decisions for schedulers, from the ``crawls`` table.

Pure: no Scrapy. ``scrapy crawl`` exits 0 even when a crawl goes badly, so
``scrapy corpus check`` asks this module and exits non-zero with a reason.
A *source* is one spider with one set of arguments (``crawls.spider`` and
``crawls.args``): the same cron line gives the same source.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass
class Thresholds:
    #: failures / URLs handled in the last crawl above which it is a problem.
    max_error_rate: float = 0.5
    #: this many last crawls in a row with no new article is a problem (0: off).
    stale_runs: int = 3


@dataclass
class Problem:
    source: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"


def source_of(crawl: dict[str, Any]) -> str:
    args = json.loads(crawl.get("args") or "{}")
    shown = " ".join(f"{k}={v}" for k, v in sorted(args.items()))
    return f"{crawl['spider']} {shown}".strip()


def _counts(stats: dict[str, Any]) -> tuple[int, int]:
    """(URLs handled, failures) in one crawl's stats."""
    failures = sum(v for k, v in stats.items() if k.startswith("corpus/failures/"))
    handled = failures + sum(
        v
        for k, v in stats.items()
        if k.startswith(("corpus/articles/", "corpus/duplicates/", "corpus/skipped/"))
    )
    return handled, failures


def _merge_overlapping(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Crawls of one source that ran at the same time (the workers of one
    scale-out run) are judged as one: their counters add up, and the run
    finished normally only if all of them did."""
    merged: list[dict[str, Any]] = []
    for run in runs:
        prev = merged[-1] if merged else None
        if (
            prev is not None
            and prev.get("finished_at")
            and run.get("started_at")
            and run["started_at"] < prev["finished_at"]
            and json.loads(run.get("stats") or "{}").get("corpus/worker")
        ):
            a, b = json.loads(prev.get("stats") or "{}"), json.loads(run.get("stats") or "{}")
            stats = {
                k: a.get(k, 0) + b.get(k, 0)
                for k in set(a) | set(b)
                if isinstance(a.get(k, 0), int) and isinstance(b.get(k, 0), int)
            }
            prev.update(
                stats=json.dumps(stats),
                id=run["id"],
                finished_at=run.get("finished_at") and max(prev["finished_at"], run["finished_at"]),
                finish_reason=prev["finish_reason"]
                if prev["finish_reason"] != "finished"
                else run.get("finish_reason"),
            )
            continue
        merged.append(dict(run))
    return merged


def check(crawls: list[dict[str, Any]], thresholds: Thresholds | None = None) -> list[Problem]:
    """Problems of each source, judged on its latest crawls (oldest first in ``crawls``)."""
    t = thresholds or Thresholds()
    by_source: dict[str, list[dict[str, Any]]] = {}
    for crawl in crawls:
        by_source.setdefault(source_of(crawl), []).append(crawl)
    by_source = {source: _merge_overlapping(runs) for source, runs in by_source.items()}
    problems = []
    for source, runs in by_source.items():
        last = runs[-1]
        stats = json.loads(last.get("stats") or "{}")
        if not last.get("finished_at"):
            problems.append(
                Problem(
                    source,
                    f"crawl #{last['id']} started {last['started_at']} "
                    "never finished (killed, or still running)",
                )
            )
            continue
        if last.get("finish_reason") != "finished":
            problems.append(
                Problem(
                    source,
                    f"crawl #{last['id']} ended with '{last.get('finish_reason')}', not 'finished'",
                )
            )
            continue
        handled, failures = _counts(stats)
        if handled == 0 and not stats.get("response_received_count"):
            problems.append(Problem(source, f"crawl #{last['id']} handled no URL at all"))
            continue
        if handled and failures / handled > t.max_error_rate:
            problems.append(
                Problem(
                    source,
                    f"crawl #{last['id']}: {failures} of {handled} URLs failed "
                    f"({failures / handled:.0%} > {t.max_error_rate:.0%})",
                )
            )
            continue
        if t.stale_runs and len(runs) >= t.stale_runs:
            recent = runs[-t.stale_runs :]
            if all(
                not json.loads(r.get("stats") or "{}").get("corpus/articles/stored") for r in recent
            ):
                problems.append(
                    Problem(source, f"no new article in the last {t.stale_runs} crawls")
                )
    return problems
