"""Does adding an article stay flat as the corpus grows?

    python bench/scaling.py [--sizes 1000,10000,100000] [--probe 400] [--fill fast|writer]

Grows one corpus to each size with synthetic articles, then times adding
``--probe`` more through the real writer (:meth:`Corpus.add_article`, flushed
every ``--batch`` articles, exactly as a crawl's writer thread does: dedup,
story grouping, storage, FTS5), in wall time and in CPU time of the process,
and the latency of full-text queries at that size. Synthetic texts come from
bench/sitegen.py's sentence generator (deterministic: article ``i``'s text
depends on ``i`` only), in stories of three articles.

As in a crawl, the articles' features (near-duplicate sketch, story terms,
sentence keys: :mod:`crawler.features`) are computed in worker processes
(``--workers``) and travel with the articles; the writer only looks up and
writes. The probe articles' features are computed before the timing too.

How the corpus is grown between the probes (``--fill``):

* ``writer``: every article through ``Corpus.add_article`` and ``flush``, in
  transactions of ``--batch`` (the crawl's way; about 5 ms of the writer's CPU
  an article, so 1,000,000 take hours).
* ``fast`` (the default): the first ``--writer-fill`` articles as ``writer``
  (the cold start and its regrouping included), then the writer's own batch
  path without the decisions a synthetic article does not need: each article
  is written as :func:`crawler.storage.writer.write_batch` writes a new one
  (the same ``INSERT`` into ``articles`` and its FTS5 triggers,
  :meth:`StoryIndex.assign_story`, :meth:`StoryIndex.add`: fingerprint and
  key-term postings, ``article_features``, sentences with their outlet counts;
  :meth:`StoryIndex.finish` and the postings' fold at the end of each
  transaction of ``--batch``), without the dedup lookups (the synthetic texts
  are all distinct: a ``writer`` fill records no duplicates), and with the
  first article of each synthetic story choosing its story as the writer does
  while the other two join that story (imposed, as for an article taking over
  a story; the writer's own search would mostly find the same one, see
  ``--fill writer``'s story counts). The same tables, rows and B-trees, at a
  fraction of the cost.

``--db PATH`` keeps the corpus file (for EXPLAIN or ``dbstat`` afterwards);
``--resume`` grows a kept one on (a run stopped during its fill: the cut
transaction leaves nothing behind), so a large corpus need not be filled again;
``--alternate SMALL LARGE`` probes two kept corpora by turns, in one run.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import sitegen  # noqa: E402

from crawler import features  # noqa: E402
from crawler.dedup.exact import content_hash  # noqa: E402
from crawler.items import Article  # noqa: E402
from crawler.storage.corpus import Corpus  # noqa: E402
from crawler.storage.db import write_transaction  # noqa: E402

WORDS = [
    "harbour",
    "council",
    "budget",
    "pension",
    "clinic",
    "bridge",
    "stadium",
    "rentals",
    "pollution",
    "nurses",
    "tram",
    "flights",
    "turbines",
    "flooded",
    "steel",
    "curfew",
]
START = datetime(2024, 1, 1, tzinfo=UTC)
#: probe articles are numbered from here (never met by a fill)
PROBE_BASE = 100_000_000


def synthetic(i: int) -> Article:
    """Article ``i`` (its text depends on ``i`` only); articles ``3k .. 3k+2``
    are one story."""
    rng = random.Random(i)
    topic = sitegen.new_topic(random.Random(i // 3))  # stories of three articles
    text = "\n".join(sitegen.paragraph(rng, topic) for _ in range(rng.randint(5, 9)))
    text += f"\nReference {i} for the archive of this synthetic corpus."
    return Article(
        url=f"https://bench{i % 50}.example/news/{i}",
        title=sitegen.sentence(rng, topic)[:80],
        text=text,
        content_hash=content_hash(text),
        word_count=len(text.split()),
        site=f"Outlet {i % 50}",
        published=(START + timedelta(minutes=7 * i)).isoformat(),
    )


def with_features(i: int) -> Article:
    """Article ``i`` with its features, as a cleaning worker hands it on."""
    return features.attach(synthetic(i))


def articles(
    pool: multiprocessing.pool.Pool | None, start: int, end: int, chunk: int = 500
) -> Iterator[Article]:
    """Articles ``start .. end - 1`` with their features, in order; computed by
    ``pool`` a chunk ahead of the one being consumed (never more: the writer's
    memory must not fill with articles waiting)."""
    if pool is None:
        yield from map(with_features, range(start, end))
        return
    ahead = None
    for lo in range(start, end, chunk):
        current = ahead or pool.map_async(with_features, range(lo, min(lo + chunk, end)), 64)
        nxt = lo + chunk
        ahead = (
            pool.map_async(with_features, range(nxt, min(nxt + chunk, end)), 64)
            if nxt < end
            else None
        )
        yield from current.get()


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident memory of this process (the writer), MB."""
    current = 0.0
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                current = int(line.split()[1]) / 1024
    return current, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Filler:
    """Grows the corpus (see the module's docstring: ``--fill``)."""

    def __init__(self, corpus: Corpus, mode: str, writer_fill: int, batch: int) -> None:
        self.corpus = corpus
        self.mode = mode
        self.writer_fill = writer_fill
        self.batch = batch
        #: synthetic story (i // 3) -> its story id, for the current and next stories only
        self.story_of: dict[int, int] = {}
        self.insert_sql: str | None = None
        self.by_writer = 0
        self.fast = 0

    def grow(self, pool: multiprocessing.pool.Pool | None, start: int, end: int) -> None:
        corpus = self.corpus
        corpus.batch_size = self.batch
        t0, n0, last = time.perf_counter(), start, start
        source = articles(pool, start, end)
        pending: list[tuple[int, Article]] = []
        for i, article in zip(range(start, end), source, strict=True):
            if self.mode == "writer" or i < self.writer_fill:
                corpus.add_article(article)
                self.by_writer += 1
            else:
                pending.append((i, article))
                if len(pending) >= self.batch:
                    self._write(pending)
                    pending = []
            if i + 1 - last >= 50_000:
                last = i + 1
                cur, peak = rss_mb()
                rate = (i + 1 - n0) / (time.perf_counter() - t0)
                print(
                    f"    ... {i + 1:>9,} articles ({rate:,.0f}/s, writer RSS {cur:.0f} MB,"
                    f" peak {peak:.0f} MB) {datetime.now(UTC):%H:%M:%S} UTC",
                    flush=True,
                )
        if pending:
            self._write(pending)
        corpus.flush()

    def _write(self, pending: list[tuple[int, Article]]) -> None:
        """One transaction, as write_batch writes new articles (see the module's docstring)."""
        corpus = self.corpus
        db, index = corpus.db, corpus.index
        with write_transaction(db):
            for i, article in pending:
                feats = features.of(article)
                row = corpus._row(article)
                story = i // 3
                story_id, tf = index.assign_story(row, self.story_of.get(story), feats.terms)
                self.story_of[story] = story_id
                row["story_id"] = story_id
                if self.insert_sql is None:
                    self.insert_sql = (
                        f"INSERT INTO articles ({', '.join(row)}) VALUES"
                        f" ({', '.join(':' + c for c in row)})"
                    )
                article_id = db.execute(self.insert_sql, row).lastrowid
                assert article_id is not None
                index.add(article_id, row, story_id, tf, feats.sketch, feats.sentences)
            index.finish()
        self.fast += len(pending)
        last = pending[-1][0] // 3
        self.story_of = {s: v for s, v in self.story_of.items() if s >= last}


def probe(corpus: Corpus, articles: list[Article], batch: int) -> tuple[float, float]:
    """(wall, CPU) milliseconds per added article, including its share of the flushes."""
    corpus.batch_size = batch
    corpus.flush()
    w0, c0 = time.perf_counter(), time.process_time()
    for k, article in enumerate(articles, 1):
        corpus.add_article(article)
        if k % batch == 0:
            corpus.flush()
    corpus.flush()
    n = len(articles)
    return (time.perf_counter() - w0) / n * 1e3, (time.process_time() - c0) / n * 1e3


def query_ms(corpus: Corpus, rng: random.Random, n: int = 30) -> float:
    times = []
    for _ in range(n):
        q = " ".join(rng.sample(WORDS, 2))
        t0 = time.perf_counter()
        list(
            corpus.db.execute(
                "select a.id, a.title from articles_fts join articles a on a.id = articles_fts.rowid "
                "where articles_fts match ? order by rank limit 20",
                [q],
            )
        )
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def file_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists()) / (1024 * 1024)


def filled(corpus: Corpus) -> int:
    """How many synthetic articles a kept corpus holds (the next one's number):
    the probes' are numbered from PROBE_BASE."""
    row = corpus.db.execute(
        "SELECT max(CAST(substr(url, instr(url, '/news/') + 6) AS INTEGER)) FROM articles"
        " WHERE CAST(substr(url, instr(url, '/news/') + 6) AS INTEGER) < ?",
        [PROBE_BASE],
    ).fetchone()
    return 0 if row[0] is None else row[0] + 1


def run(args: argparse.Namespace, path: Path) -> list[tuple[int, float, float, float]]:
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = random.Random(3)
    results = []
    corpus = Corpus(path, batch_size=args.batch)
    corpus.start_crawl("bench", {})
    filler = Filler(corpus, args.fill, args.writer_fill, args.batch)
    n = filled(corpus) if args.resume else 0
    if n:
        print(f"resuming a corpus of {n:,} synthetic articles (and the earlier probes)")
        sizes = [s for s in sizes if s > n]
    pool = multiprocessing.Pool(args.workers) if args.workers else None
    try:
        # the features a cleaning worker computes, per article (not in the probe)
        sample = [synthetic(PROBE_BASE - k - 1) for k in range(100)]
        c0 = time.process_time()
        for a in sample:
            features.compute(a.title, a.text)
        feats_ms = (time.process_time() - c0) / len(sample) * 1e3
        print(
            f"fill: {args.fill}"
            + (f" (first {args.writer_fill:,} through the writer)" if args.fill == "fast" else "")
            + f", transactions of {args.batch}, features in {args.workers or 'no'} worker"
            f" process(es) ({feats_ms:.1f} ms of CPU an article, not in the probe)",
            flush=True,
        )
        for size in sizes:
            t0 = time.perf_counter()
            filler.grow(pool, n, size)
            grown = time.perf_counter() - t0
            n = size
            probes = list(articles(pool, PROBE_BASE + size, PROBE_BASE + size + args.probe))
            wall, cpu = probe(corpus, probes, args.batch)
            latency = query_ms(corpus, rng)
            cur, peak = rss_mb()
            stored = corpus.db.execute("SELECT count(*) FROM articles").fetchone()[0]
            stories_n = corpus.db.execute("SELECT count(*) FROM stories").fetchone()[0]
            dups = corpus.db.execute("SELECT count(*) FROM duplicates").fetchone()[0]
            results.append((size, wall, cpu, latency))
            print(
                f"{size:>9,} articles (grown in {grown:,.0f} s): add an article {wall:.2f} ms wall,"
                f" {cpu:.2f} ms CPU; full-text query (top 20 by rank) median {latency:.2f} ms;"
                f" writer RSS {cur:.0f} MB (peak {peak:.0f}); file {file_mb(path):,.0f} MB;"
                f" {stored:,} stored, {stories_n:,} stories, {dups:,} duplicates",
                flush=True,
            )
    finally:
        if pool is not None:
            pool.terminate()
        corpus.close()
    print(
        f"filled through the writer: {filler.by_writer:,} articles; by the fast path:"
        f" {filler.fast:,}"
    )
    return results


def alternate(small: Path, large: Path, rounds: int, n: int, batch: int) -> None:
    """Probes of a small and a large kept corpus taking turns, ``rounds`` times,
    in one run (the machine's load changes the cost of every statement: only
    figures measured side by side compare). Each turn opens the corpus, adds
    ``batch`` articles untimed (the writer's caches warm up, as after a fill),
    then times ``n``. The small corpus is a fresh copy each round, so it keeps
    its size; the large one grows by the probes, a negligible share of it."""
    rng = random.Random(3)
    got: dict[str, list[tuple[float, float, float]]] = {"small": [], "large": []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(rounds):
            for name, path in (("small", small), ("large", large)):
                if name == "small":
                    path = Path(tmp) / f"small-{r}.db"
                    for suffix in ("", "-wal"):
                        if Path(f"{small}{suffix}").exists():
                            shutil.copyfile(f"{small}{suffix}", f"{path}{suffix}")
                corpus = Corpus(path, batch_size=batch)
                try:
                    corpus.start_crawl("bench", {})
                    stored = corpus.db.execute("SELECT count(*) FROM articles").fetchone()[0]
                    first = 2 * PROBE_BASE + stored  # (numbers no probe has had)
                    probe(corpus, [with_features(first + k) for k in range(batch)], batch)
                    probes = [with_features(first + batch + k) for k in range(n)]
                    wall, cpu = probe(corpus, probes, batch)
                    latency = query_ms(corpus, rng)
                finally:
                    corpus.close()
                got[name].append((wall, cpu, latency))
                print(
                    f"round {r + 1} {name:<5} ({stored:>9,} stored): add an article {wall:.2f} ms"
                    f" wall, {cpu:.2f} ms CPU; full-text query {latency:.2f} ms",
                    flush=True,
                )
    med = {k: [statistics.median(x[i] for x in v) for i in range(3)] for k, v in got.items()}
    print(
        f"medians small / large: add {med['small'][0]:.2f} / {med['large'][0]:.2f} ms wall"
        f" ({med['large'][0] / med['small'][0]:.2f}x), {med['small'][1]:.2f} /"
        f" {med['large'][1]:.2f} ms CPU ({med['large'][1] / med['small'][1]:.2f}x, target"
        f" <= 1.5x); full-text query {med['small'][2]:.2f} / {med['large'][2]:.2f} ms"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--probe", type=int, default=400)
    ap.add_argument("--batch", type=int, default=200, help="the crawl's write batch")
    ap.add_argument("--fill", choices=("fast", "writer"), default="fast")
    ap.add_argument("--writer-fill", type=int, default=10_000)
    ap.add_argument("--workers", type=int, default=1, help="feature processes (0: in-process)")
    ap.add_argument("--db", type=Path, help="keep the corpus here (default: a temporary file)")
    ap.add_argument(
        "--resume",
        action="store_true",
        help="grow the kept --db corpus on to the sizes above what it holds (a run stopped"
        " during a fill, say: a transaction cut short leaves nothing behind)",
    )
    ap.add_argument(
        "--alternate",
        nargs=2,
        type=Path,
        metavar=("SMALL", "LARGE"),
        help="probe two kept corpora by turns instead (see alternate())",
    )
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    if args.alternate:
        small, large = args.alternate
        alternate(small, large, args.rounds, args.probe, args.batch)
        return
    if args.resume and args.db is None:
        ap.error("--resume needs --db")
    if args.db is not None:
        if args.db.exists() and not args.resume:
            sys.exit(f"{args.db} exists: give a new path, or --resume")
        results = run(args, args.db)
        print(f"corpus kept: {args.db}")
    else:
        with tempfile.TemporaryDirectory() as tmp:
            results = run(args, Path(tmp) / "corpus.db")
    if not results:
        sys.exit("no size above what the corpus holds")
    first, last = results[0], results[-1]
    print(
        f"add-article growth {first[0]:,} -> {last[0]:,}: {last[1] / first[1]:.2f}x wall,"
        f" {last[2] / first[2]:.2f}x CPU (target <= 1.5x); query latency growth"
        f" {last[3] / first[3]:.2f}x"
    )


if __name__ == "__main__":
    main()
