"""WARC ingest throughput, against single-core trafilatura, in the same run.

    python bench/warc.py [--pages 2000] [--sample 300] [--workers -1] [--hosts 4]
                         [--libs-only] [--web] [--big-mb 0]

1. Generates the bench site (bench/sitegen.py; deterministic) and writes it as
   one CC-NEWS-like ``.warc.gz`` (request, response and metadata records per
   page, one gzip member per record), its pages spread over ``--hosts`` hosts.
2. Reads that file with FastWARC and with warcio (every record, the HTTP
   payloads of the responses) and prints records/s for each: the measurement
   behind the choice of library.
3. Runs a real ``scrapy crawl warc`` of it into a fresh corpus: HTML records/s,
   CPU seconds per record and peak memory of the process tree (the crawl and
   its cleaning workers); then the same with ``-a hosts=`` one host (what a
   host filter saves).
4. Single-core ``trafilatura.extract(..., with_metadata=True)`` on the same
   pages, and the ratio the project targets (>= 1.3x).
5. ``--web``: the web crawl of the same site (bench/crawl.py's run), for the
   CPU a fetched page costs. ``--big-mb N``: a file of about N MB served over
   http on 127.0.0.1, read through a host filter that keeps one page in 50,
   for the peak memory on a large remote file.

Figures only: nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
import time
from pathlib import Path

import sqlite_utils

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import crawl as crawl_bench  # noqa: E402
import proctree  # noqa: E402
import server as site_server  # noqa: E402
import sitegen  # noqa: E402

from tests import warcs  # noqa: E402

DATE = "2025-03-01T12:00:00Z"


def host(k: int) -> str:
    return f"courier-{k}.bench.example"


def site_pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html"))


def build_warc(site: Path, out: Path, hosts: int, copies: int = 1) -> tuple[int, int]:
    """The site as a WARC; returns (records, HTML responses)."""
    records = responses = 0
    with open(out, "wb") as f:
        f.write(gzip.compress(warcs.warcinfo().to_bytes(), 6))
        records += 1
        for copy in range(copies):
            for i, path in enumerate(site_pages(site)):
                base = f"https://{host(i % hosts)}"
                rel = path.relative_to(site).as_posix()
                url = f"{base}/{rel}" if not copy else f"{base}/c{copy}/{rel}"
                body = path.read_text(encoding="utf-8").replace("{base}", base).encode()
                for rec in (
                    warcs.request(url, DATE),
                    warcs.response(url, body, date=DATE),
                    warcs.metadata(url),
                ):
                    f.write(gzip.compress(rec.to_bytes(), 6))
                    records += 1
                responses += 1
    return records, responses


def time_fastwarc(path: Path) -> tuple[float, int]:
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    t0 = time.perf_counter()
    n = 0
    with open(path, "rb") as f:
        for rec in ArchiveIterator(f, parse_http=False):
            n += 1
            if rec.record_type == WarcRecordType.response:
                rec.parse_http()
                rec.reader.read()
    return time.perf_counter() - t0, n


def time_warcio(path: Path) -> tuple[float, int]:
    from warcio.archiveiterator import ArchiveIterator

    t0 = time.perf_counter()
    n = 0
    with open(path, "rb") as f:
        for rec in ArchiveIterator(f):
            n += 1
            if rec.rec_type == "response":
                rec.content_stream().read()
    return time.perf_counter() - t0, n


def libraries(path: Path, rounds: int = 3) -> dict[str, float]:
    out = {}
    for name, fn in (("fastwarc", time_fastwarc), ("warcio", time_warcio)):
        try:
            best = min(fn(path) for _ in range(rounds))
        except ImportError:
            continue
        out[name] = best[1] / best[0]
    return out


def run_ingest(args: list[str], db: Path, workers: int) -> dict:
    cmd = [sys.executable, "-m", "scrapy", "crawl", "warc", *args, "-s", f"CORPUS_DB={db}"]
    cmd += ["-s", "LOG_LEVEL=WARNING", "-s", f"CLEAN_WORKERS={workers}"]
    cmd += ["-s", "ALLOW_PRIVATE_NETWORKS=True"]
    run = proctree.measure(cmd, cwd=ROOT)
    if run.returncode:
        raise SystemExit(f"ingest failed ({run.returncode}):\n{run.stderr[-3000:]}")
    wall = run.wall_s
    corpus = sqlite_utils.Database(db)
    stats = json.loads(next(corpus.query("select stats from crawls order by id desc"))["stats"])
    pages = stats.get("warc/records/pages", 0)
    return {
        "wall_s": wall,
        "records": stats.get("warc/records/read", 0),
        "pages": pages,
        "pages_per_s": pages / wall,
        "cpu_s": run.cpu_s,
        "cpu_ms_per_page": 1000 * run.cpu_s / max(pages, 1),
        # the crawl process itself (reactor, WARC reader, corpus writer), without the workers
        "main_ms_per_page": 1000 * run.by_role().get("crawl", 0.0) / max(pages, 1),
        "peak_rss_mb": run.peak_rss_mb,
        "tree": run,
        "articles": corpus["articles"].count,
        "duplicates": corpus["duplicates"].count,
        "failures": corpus["failures"].count,
    }


def describe(name: str, r: dict) -> str:
    return (
        f"{name}: {r['pages']} HTML records of {r['records']} in {r['wall_s']:.1f} s ="
        f" {r['pages_per_s']:.1f} records/s; {r['cpu_ms_per_page']:.0f} ms CPU per HTML record"
        f" ({r['main_ms_per_page']:.0f} ms of it in the crawl process, the rest in the cleaning"
        " workers);"
        f" peak memory {r['peak_rss_mb']:.0f} MB; {r['articles']} articles,"
        f" {r['duplicates']} duplicates, {r['failures']} failures"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=2000)
    ap.add_argument("--sample", type=int, default=300, help="pages for the single-core run")
    ap.add_argument("--workers", type=int, default=-1, help="CLEAN_WORKERS for the ingest")
    ap.add_argument("--hosts", type=int, default=4, help="hosts the pages are spread over")
    ap.add_argument("--libs-only", action="store_true", help="only compare the libraries")
    ap.add_argument("--web", action="store_true", help="also crawl the site over http")
    ap.add_argument("--big-mb", type=int, default=0, help="also read a remote file this large")
    ap.add_argument("--big-only", action="store_true", help="only the --big-mb run")
    ap.add_argument("--site", type=Path, default=None, help="site folder (default: a temp dir)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        site = args.site or tmpdir / "site"
        if not (site / "manifest.json").exists():
            sitegen.generate(site, args.pages)
        warc = tmpdir / "bench.warc.gz"
        t0 = time.perf_counter()
        records, responses = build_warc(site, warc, args.hosts)
        size = warc.stat().st_size
        print(
            f"WARC: {responses} HTML responses, {records} records, {size / 2**20:.1f} MB gzipped"
            f" (built in {time.perf_counter() - t0:.1f} s), over {args.hosts} hosts"
        )
        libs = libraries(warc)
        print(
            "reading every record (HTTP payloads of responses), best of 3: "
            + ", ".join(f"{k} {v:,.0f} records/s" for k, v in libs.items())
        )
        if len(libs) == 2:
            print(f"fastwarc / warcio = {libs['fastwarc'] / libs['warcio']:.1f}x")
        if args.libs_only:
            return
        if args.big_only:
            big_file(site, size, tmpdir, args)
            return

        full = run_ingest(["-a", f"path={warc}"], tmpdir / "all.db", args.workers)
        print(describe(f"ingest (scrapy crawl warc, CLEAN_WORKERS={args.workers})", full))
        one = run_ingest(
            ["-a", f"path={warc}", "-a", f"hosts={host(0)}"], tmpdir / "host.db", args.workers
        )
        print(describe(f"ingest with -a hosts={host(0)}", one))
        print(
            f"host filter: {full['wall_s'] / one['wall_s']:.1f}x less time for 1/{args.hosts} of the pages"
        )

        pages = site_pages(site)[:: max(1, len(site_pages(site)) // args.sample)][: args.sample]
        sc = crawl_bench.single_core(pages, f"https://{host(0)}")
        print(
            f"single core, same pages ({sc['pages']}): our cleaning {sc['ours_pages_per_s']:.1f}"
            f" pages/s, trafilatura.extract with metadata {sc['trafilatura_pages_per_s']:.1f} pages/s"
        )
        print(
            f"ratio: ingest / single-core trafilatura = "
            f"{full['pages_per_s'] / sc['trafilatura_pages_per_s']:.2f}x (target >= 1.3x)"
        )
        print(f"ingest: {full['tree'].describe(full['pages'], 'HTML record')}")
        print(
            f"CPU per HTML record: process tree {full['cpu_ms_per_page']:.1f} ms /"
            f" trafilatura.extract with metadata {sc['trafilatura_cpu_ms']:.1f} ms ="
            f" {full['cpu_ms_per_page'] / sc['trafilatura_cpu_ms']:.2f}x (target <= 1.5x)"
        )

        if args.web:
            srv = site_server.start(site)
            web = crawl_bench.run_crawl(srv.base, tmpdir / "web.db", args.workers)
            srv.shutdown()
            print(
                f"web crawl of the same site: {web['pages']} pages, {web['pages_per_s']:.1f} pages/s,"
                f" {1000 * web['cpu_s'] / max(web['pages'], 1):.0f} ms CPU per page;"
                f" ingest {full['cpu_ms_per_page']:.0f} ms CPU per HTML record"
            )

        if args.big_mb:
            big_file(site, size, tmpdir, args)


def big_file(site: Path, size: int, tmpdir: Path, args: argparse.Namespace) -> None:
    """A file of about ``--big-mb`` MB, served on 127.0.0.1, read through a
    host filter that keeps one page in 50: the peak memory on a large remote file."""
    copies = max(1, round(args.big_mb * 2**20 / size))
    big = tmpdir / "big" / "big.warc.gz"
    big.parent.mkdir()
    t0 = time.perf_counter()
    _, big_pages = build_warc(site, big, 50, copies)
    print(
        f"big file: {big.stat().st_size / 2**20:.0f} MB, {big_pages} HTML responses"
        f" (built in {time.perf_counter() - t0:.0f} s)"
    )
    with warcs.ArchiveServer(big.parent) as server:
        remote = run_ingest(
            ["-a", f"path={server.base}big.warc.gz", "-a", f"hosts={host(0)}"],
            tmpdir / "big.db",
            args.workers,
        )
    print(describe("remote big file over http, -a hosts= 1 host in 50", remote))


if __name__ == "__main__":
    main()
