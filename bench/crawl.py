"""End-to-end crawl throughput on a generated local news site.

    python bench/crawl.py [--pages 2000] [--sample 300] [--workers -1]

1. Generates the site (bench/sitegen.py; deterministic) unless it exists.
2. Serves it on 127.0.0.1 (bench/server.py) and checks the server's own rate.
3. Runs a real ``scrapy crawl sitemaps`` of it into a fresh corpus and reports
   pages/s, CPU use and peak memory of the whole process tree (the crawl and
   its cleaning workers), the corpus counts, and the stored texts' F1 against
   the pages' true texts, per template of the site.
4. In the same run, on the same pages: single-core throughput of our own
   cleaning function and of ``trafilatura.extract(..., with_metadata=True,
   include_comments=False)``, and the ratios the project targets.

Figures only: nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import sqlite_utils

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import proctree  # noqa: E402
import server as site_server  # noqa: E402
import sitegen  # noqa: E402


def run_crawl(base: str, db: Path, workers: int, code: Path = ROOT) -> dict:
    """A real ``scrapy crawl sitemaps`` of the site, run from ``code`` (a checkout
    of the project: its ``crawler`` package is the one imported)."""
    cmd = [
        sys.executable,
        "-m",
        "scrapy",
        "crawl",
        "sitemaps",
        "-a",
        f"sitemaps={base}/sitemap.xml",
        "-s",
        f"CORPUS_DB={db}",
        "-s",
        "ALLOW_PRIVATE_NETWORKS=True",
        "-s",
        "AUTOTHROTTLE_ENABLED=False",
        "-s",
        "CONCURRENT_REQUESTS=32",
        "-s",
        "CONCURRENT_REQUESTS_PER_DOMAIN=32",
        "-s",
        "LOG_LEVEL=WARNING",
        "-s",
        f"CLEAN_WORKERS={workers}",
        "-s",
        "HTTPCACHE_ENABLED=False",
    ]
    # the checkout's own package first (before the editable install's finder)
    env = {**os.environ, "PYTHONPATH": str(code)} if code != ROOT else None
    run = proctree.measure(cmd, cwd=code, env=env)
    if run.returncode:
        raise SystemExit(f"crawl failed ({run.returncode}):\n{run.stderr[-3000:]}")
    err, wall = run.stderr, run.wall_s
    corpus = sqlite_utils.Database(db)
    counts = {
        t: corpus[t].count for t in ("articles", "duplicates", "failures", "stories", "versions")
    }
    # articles stored with an AMP page's text although their own page was crawled
    counts["amp_texts"] = next(
        corpus.query("select count(*) n from articles where fetched_url like '%/amp/%'")
    )["n"]
    counts["largest_story"] = next(
        corpus.query("select coalesce(max(article_count), 0) n from stories")
    )["n"]
    stats = json.loads(next(corpus.query("select stats from crawls order by id desc"))["stats"])
    counts["profile_lessons"] = stats.get("corpus/site_profiles/learnt_in_crawl", 0)
    counts["texts_stripped"] = stats.get("corpus/site_profiles/texts_stripped", 0)
    counts["settle_s"] = stats.get("corpus/settle/seconds", 0.0)
    # (the settle's stats are written only when it changed something: 0 otherwise)
    counts["settle_cpu_s"] = stats.get("corpus/settle/cpu_seconds", 0.0)
    counts["settle_changed"] = stats.get("corpus/settle/changed", 0)
    counts["settle_moved"] = stats.get("corpus/settle/story_moved", 0)
    pages = stats.get("response_received_count", 0)
    return {
        "wall_s": wall,
        "pages": pages,
        "pages_per_s": pages / wall,
        "cpu_s": run.cpu_s,
        "cores_busy": run.cpu_s / wall,
        "cpu_ms_per_page": 1000 * run.cpu_s / max(1, pages),
        "peak_rss_mb": run.peak_rss_mb,
        "peak_pss_mb": run.peak_pss_mb,
        "tree": run,
        **counts,
        "stderr_tail": err[-500:] if err.strip() else "",
    }


# --- stored-text F1 per template (issue 17, point 5) ---------------------------


def _tokens(text: str) -> Counter[str]:
    return Counter(re.findall(r"\w+", text.casefold()))


def token_f1(truth: str, got: str) -> float:
    """Bag-of-words F1 of a stored text against the page's true text."""
    t, g = _tokens(truth), _tokens(got)
    common = sum((t & g).values())
    if not common:
        return 0.0
    p, r = common / sum(g.values()), common / sum(t.values())
    return 2 * p * r / (p + r)


def template_f1(db: Path, site: Path) -> dict[int, dict[str, float]]:
    """Mean stored-text F1 (and P, R) of the crawl's articles, per template of
    the generated site (``truth.jsonl`` of :mod:`sitegen`)."""
    truth = {}
    with open(site / "truth.jsonl", encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            truth[rec["url"]] = rec
    scores: dict[int, list[tuple[float, float, float]]] = {}
    for row in sqlite_utils.Database(db).query("select url, text from articles"):
        rec = truth.get(urlsplit(row["url"]).path)
        if rec is None:
            continue
        t, g = _tokens(rec["text"]), _tokens(row["text"] or "")
        common = sum((t & g).values())
        p = common / max(1, sum(g.values()))
        r = common / max(1, sum(t.values()))
        scores.setdefault(rec["template"], []).append(
            (p, r, token_f1(rec["text"], row["text"] or ""))
        )
    return {
        k: {
            "articles": len(v),
            "p": sum(x[0] for x in v) / len(v),
            "r": sum(x[1] for x in v) / len(v),
            "f1": sum(x[2] for x in v) / len(v),
            "under_95": sum(1 for x in v if x[2] < 0.95),
        }
        for k, v in sorted(scores.items())
    }


def print_template_f1(db: Path, site: Path) -> None:
    if not (site / "truth.jsonl").exists():
        print("stored-text F1 per template: no truth.jsonl (a site of an older sitegen)")
        return
    for k, v in template_f1(db, site).items():
        print(
            f"stored-text F1, template {k}: {v['f1']:.3f} (P {v['p']:.3f}, R {v['r']:.3f}) "
            f"over {v['articles']} articles, {v['under_95']} under 0.95"
        )


def single_core(pages: list[Path], base: str) -> dict:
    """Our cleaning and ``trafilatura.extract(..., with_metadata=True,
    include_comments=False)`` on the same pages in this process: pages/s and
    CPU ms per page (this thread's CPU time: the site server's threads are idle)."""
    import trafilatura

    from crawler.extract.processing import process_page
    from crawler.items import Page

    bodies = [(f"{base}/{p.name}", p.read_bytes()) for p in pages]
    process_page(Page(bodies[0][0], bodies[0][1], "text/html"))  # warm-up
    t0, c0 = time.perf_counter(), time.thread_time()
    for url, body in bodies:
        process_page(Page(url, body, "text/html"))
    ours, ours_cpu = time.perf_counter() - t0, time.thread_time() - c0
    trafilatura.extract(bodies[0][1], url=bodies[0][0], with_metadata=True, include_comments=False)
    t0, c0 = time.perf_counter(), time.thread_time()
    for url, body in bodies:
        trafilatura.extract(body, url=url, with_metadata=True, include_comments=False)
    traf, traf_cpu = time.perf_counter() - t0, time.thread_time() - c0
    return {
        "pages": len(bodies),
        "ours_pages_per_s": len(bodies) / ours,
        "trafilatura_pages_per_s": len(bodies) / traf,
        "ours_cpu_ms": 1000 * ours_cpu / len(bodies),
        "trafilatura_cpu_ms": 1000 * traf_cpu / len(bodies),
    }


def print_cpu(crawl: dict, sc: dict, label: str = "") -> None:
    """CPU per page of the crawl's process tree, by process, against trafilatura's."""
    tree = crawl["tree"]
    print(f"{label}{tree.describe(crawl['pages'])}")
    print(
        f"{label}CPU per page: process tree {crawl['cpu_ms_per_page']:.1f} ms /"
        f" trafilatura.extract with metadata {sc['trafilatura_cpu_ms']:.1f} ms ="
        f" {crawl['cpu_ms_per_page'] / sc['trafilatura_cpu_ms']:.2f}x (target <= 1.5x);"
        f" {crawl['pages_per_s']:.1f} pages/s ="
        f" {crawl['pages_per_s'] / sc['trafilatura_pages_per_s']:.2f}x single-core trafilatura"
    )


def compare(base: str, tmp: Path, codes: list[Path], rounds: int, workers: int, sc: dict) -> None:
    """Crawls alternating between checkouts, ``rounds`` times each: CPU per page
    of each, side by side (the machine drifts: compare within a round)."""
    per: dict[Path, list[float]] = {c: [] for c in codes}
    for r in range(rounds):
        for k, code in enumerate(codes if r % 2 == 0 else codes[::-1]):
            crawl = run_crawl(base, tmp / f"cmp-{r}-{k}.db", workers, code)
            per[code].append(crawl["cpu_ms_per_page"])
            by_role = {
                k2: 1000 * v / max(1, crawl["pages"]) for k2, v in crawl["tree"].by_role().items()
            }
            print(
                f"round {r + 1}, {code}: {crawl['cpu_ms_per_page']:.2f} ms CPU per page"
                f" ({', '.join(f'{k2} {v:.2f}' for k2, v in by_role.items())}),"
                f" {crawl['pages_per_s']:.1f} pages/s, {crawl['articles']} articles,"
                f" {crawl['duplicates']} duplicates, {crawl['stories']} stories"
            )
    for code, ms in per.items():
        print(
            f"{code}: CPU per page median {sorted(ms)[len(ms) // 2]:.2f} ms"
            f" (all: {', '.join(f'{m:.2f}' for m in ms)}) ="
            f" {sorted(ms)[len(ms) // 2] / sc['trafilatura_cpu_ms']:.2f}x trafilatura"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=2000)
    ap.add_argument("--sample", type=int, default=300, help="pages for the single-core runs")
    ap.add_argument("--workers", type=int, default=-1, help="CLEAN_WORKERS for the crawl")
    ap.add_argument("--site", type=Path, default=None, help="site folder (default: a temp dir)")
    ap.add_argument(
        "--amp", type=int, default=0, help="AMP variants of originals in the generated site"
    )
    ap.add_argument(
        "--compare",
        type=Path,
        nargs="*",
        default=None,
        help="checkouts of the project to crawl alternately (CPU per page side by side)",
    )
    ap.add_argument("--rounds", type=int, default=3, help="crawls of each checkout (--compare)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        site = args.site or Path(tmp) / "site"
        if not (site / "manifest.json").exists():
            manifest = sitegen.generate(site, args.pages, amp=args.amp)
        else:
            manifest = json.loads((site / "manifest.json").read_text())
        srv = site_server.start(site)
        print(
            f"site: {manifest['pages']} pages ({manifest['exact_duplicates']} exact copies, "
            f"{manifest['near_duplicates']} near copies, {manifest.get('amp_variants', 0)} AMP"
            f" variants) at {srv.base}"
        )
        print(f"server alone: {site_server.selftest(srv, 2000):,.0f} pages/s over 4 connections")

        pages = sorted(p for p in site.rglob("*.html"))[:: max(1, manifest["pages"] // args.sample)]
        if args.compare:
            sc = single_core(pages[: args.sample], srv.base)
            print(
                f"trafilatura.extract with metadata: {sc['trafilatura_cpu_ms']:.2f} ms CPU per page"
            )
            compare(srv.base, Path(tmp), args.compare, args.rounds, args.workers, sc)
            srv.shutdown()
            return
        crawl = run_crawl(srv.base, Path(tmp) / "corpus.db", args.workers)
        print(
            f"crawl (scrapy crawl sitemaps, CLEAN_WORKERS={args.workers}): {crawl['pages']} responses "
            f"in {crawl['wall_s']:.1f} s = {crawl['pages_per_s']:.1f} pages/s; "
            f"{crawl['cores_busy']:.2f} cores busy; peak memory of the process tree "
            f"{crawl['peak_rss_mb']:.0f} MB RSS ({crawl['peak_pss_mb']:.0f} MB PSS); CPU {crawl['cpu_s']:.1f} s ="
            f" {crawl['cpu_ms_per_page']:.1f} ms per page"
        )
        print(
            f"end of crawl (settle): {crawl['settle_s']:.2f} s, {crawl['settle_cpu_s']:.2f} s CPU ="
            f" {1000 * crawl['settle_cpu_s'] / max(1, crawl['pages']):.2f} ms per page (within the"
            f" tree's CPU above), {crawl['settle_changed']} pages"
            f" changed group, {crawl['settle_moved']} articles changed story; versions"
            f" {crawl['versions']}; articles with an AMP page's text {crawl['amp_texts']}"
        )
        print(
            f"corpus: {crawl['articles']} articles, {crawl['duplicates']} duplicates, "
            f"{crawl['failures']} failures; {crawl['stories']} stories, the largest "
            f"{crawl['largest_story']} articles; site profiles learnt {crawl['profile_lessons']} "
            f"times during the crawl, {crawl['texts_stripped']} stored texts lost learnt lines"
        )
        print_template_f1(Path(tmp) / "corpus.db", site)
        if crawl["stderr_tail"]:
            print("crawl stderr (tail):", crawl["stderr_tail"])

        sc = single_core(pages[: args.sample], srv.base)
        print(
            f"single core, same pages ({sc['pages']}): our cleaning {sc['ours_pages_per_s']:.1f}"
            f" pages/s ({sc['ours_cpu_ms']:.1f} ms CPU a page), trafilatura.extract with metadata"
            f" {sc['trafilatura_pages_per_s']:.1f} pages/s ({sc['trafilatura_cpu_ms']:.1f} ms)"
        )
        print_cpu(crawl, sc)
        print(
            f"ratios: crawl / our single-core cleaning = {crawl['pages_per_s'] / sc['ours_pages_per_s']:.2f}x "
            f"(target >= 1.6x); crawl / single-core trafilatura = "
            f"{crawl['pages_per_s'] / sc['trafilatura_pages_per_s']:.2f}x (target >= 1.2x)"
        )
        srv.shutdown()


if __name__ == "__main__":
    main()
