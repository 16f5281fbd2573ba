"""Does adding an article stay flat as the corpus grows?

    python bench/scaling.py [--sizes 1000,10000,100000] [--probe 400]

Grows one corpus through the real writer (crawler.storage.corpus.Corpus: dedup,
story grouping, storage, FTS5) to each size with synthetic articles, then
times adding ``--probe`` more, one at a time, flushed in the crawl's batch
size, and the latency of full-text queries at that size. Synthetic texts
come from bench/sitegen.py's sentence generator (deterministic).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import sitegen  # noqa: E402

from crawler.dedup.exact import content_hash  # noqa: E402
from crawler.items import Article  # noqa: E402
from crawler.storage.corpus import Corpus  # noqa: E402

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


def synthetic(i: int, rng: random.Random, start: datetime) -> Article:
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
        published=(start + timedelta(minutes=7 * i)).isoformat(),
    )


def grow(corpus: Corpus, start_i: int, end_i: int, rng: random.Random, start: datetime) -> None:
    for i in range(start_i, end_i):
        corpus.add_article(synthetic(i, rng, start))
    corpus.flush()


def probe(
    corpus: Corpus, start_i: int, n: int, rng: random.Random, start: datetime, batch: int
) -> float:
    """Microseconds per added article, including its share of the flushes."""
    articles = [synthetic(start_i + k, rng, start) for k in range(n)]
    t0 = time.perf_counter()
    for k, article in enumerate(articles, 1):
        corpus.add_article(article)
        if k % batch == 0:
            corpus.flush()
    corpus.flush()
    return (time.perf_counter() - t0) / n * 1e6


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--probe", type=int, default=400)
    ap.add_argument("--batch", type=int, default=200)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = random.Random(3)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Corpus(Path(tmp) / "corpus.db", batch_size=5000)
        corpus.start_crawl("bench", {})
        n = 0
        for size in sizes:
            t0 = time.perf_counter()
            grow(corpus, n, size, rng, start)
            grown = time.perf_counter() - t0
            corpus.batch_size = args.batch
            per_article = probe(corpus, 10_000_000 + size, args.probe, rng, start, args.batch)
            corpus.batch_size = 5000
            latency = query_ms(corpus, rng)
            n = size
            results.append((size, per_article, latency))
            print(
                f"{size:>7,} articles (grown in {grown:.0f} s): add an article {per_article:,.0f} us; "
                f"full-text query (top 20 by rank) median {latency:.2f} ms",
                flush=True,
            )
        corpus.close()
    first, last = results[0], results[-1]
    print(
        f"add-article growth {first[0]:,} -> {last[0]:,}: {last[1] / first[1]:.2f}x (target <= 1.5x); "
        f"query latency growth {last[2] / first[2]:.2f}x"
    )


if __name__ == "__main__":
    main()
