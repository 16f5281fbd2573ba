#!/usr/bin/env python3
"""Cost of adding an article (dedup + story grouping + storage) as the corpus grows.

Fills a temporary corpus with synthetic articles (Zipf-distributed words from a
fixed vocabulary, grouped in topics, a fixed seed) through
:meth:`crawler.storage.corpus.Corpus.add_article`, and at 1,000, 10,000 and 100,000
stored articles times adding ``--probe`` more (flushes included). Prints the
time per article at each size and the ratio between the largest and smallest.

Usage::

    .venv/bin/python bench/story_scaling.py                 # 1k, 10k, 100k
    .venv/bin/python bench/story_scaling.py --sizes 1000,10000 --probe 300
"""

from __future__ import annotations

import argparse
import bisect
import random
import sys
import tempfile
import time
from itertools import accumulate
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from crawler.dedup.exact import content_hash  # noqa: E402
from crawler.items import Article  # noqa: E402
from crawler.storage.corpus import Corpus  # noqa: E402

SYLLABLES = "ka lo mi ren tu sa vo ne di par gel os tri bem cu ja fe ho wix zan".split()


class Generator:
    def __init__(self, seed: int = 7, vocab: int = 30000, topics: int = 3000) -> None:
        self.rng = random.Random(seed)
        words = set()
        while len(words) < vocab:
            words.add("".join(self.rng.choice(SYLLABLES) for _ in range(self.rng.randint(2, 4))))
        self.words = sorted(words)
        self.cum = list(accumulate(1 / (r + 1) for r in range(vocab)))
        self.topics = [
            [self.rng.choice(self.words).capitalize() for _ in range(6)] for _ in range(topics)
        ]
        self.n = 0

    def word(self) -> str:
        return self.words[bisect.bisect(self.cum, self.rng.random() * self.cum[-1])]

    def article(self) -> Article:
        self.n += 1
        topic = self.topics[self.rng.randrange(len(self.topics))]
        sentences = []
        for _ in range(12):
            words = [self.word() for _ in range(self.rng.randint(10, 18))]
            words.insert(self.rng.randrange(len(words)), " ".join(self.rng.sample(topic, 2)))
            sentences.append(" ".join(words).capitalize() + ".")
        text = "\n".join(" ".join(sentences[i : i + 3]) for i in range(0, 12, 3))
        day = 1 + self.n // 400
        return Article(
            url=f"https://site{self.n % 50}.example/{self.n}",
            title=" ".join(topic[:3]),
            text=text,
            content_hash=content_hash(text),
            word_count=len(text.split()),
            published=f"2024-{1 + (day // 28) % 12:02d}-{1 + day % 28:02d}T10:00:00Z",
            site=f"site{self.n % 50}.example",
        )


def run(sizes: list[int], probe: int) -> dict:
    gen = Generator()
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Corpus(Path(tmp) / "scale.db", batch_size=200)
        corpus.start_crawl("bench", {})
        stored = 0
        t_fill = time.perf_counter()
        for size in sizes:
            while stored < size:
                corpus.add_article(gen.article())
                stored += 1
            corpus.flush()
            batch = [gen.article() for _ in range(probe)]
            t0 = time.perf_counter()
            for art in batch:
                corpus.add_article(art)
            corpus.flush()
            per = (time.perf_counter() - t0) / probe
            stored += probe
            out[size] = per
            print(
                f"  {size:>7,} stored: {per * 1e3:.2f} ms per added article "
                f"(filled in {time.perf_counter() - t_fill:.0f} s)",
                flush=True,
            )
        corpus.close()
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--probe", type=int, default=1000)
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    print("story scaling: time to add an article (near-dup + grouping + storage)")
    result = run(sizes, args.probe)
    ratio = result[sizes[-1]] / result[sizes[0]]
    print(f"  ratio {sizes[-1]:,} / {sizes[0]:,}: {ratio:.2f}x")
    return {
        "ms_per_article": {k: round(v * 1e3, 3) for k, v in result.items()},
        "ratio": round(ratio, 2),
    }


if __name__ == "__main__":
    main()
