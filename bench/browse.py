#!/usr/bin/env python3
"""Story pages bench: how fast the plugin's pages answer on a large corpus.

Builds a synthetic corpus (``--articles``, default 100,000) quickly, without
crawling: the schema through the real migrations (``open_database``), then
rows inserted directly: stories of realistic sizes (most articles alone,
some stories of tens, a few of hundreds or thousands of articles), 300
outlets, a year of publication dates, texts of 1 to 6 kB made of sentences
that articles of a story partly share, their ``story_sentences`` rows with
keys and outlet counts as the crawler computes them, duplicates and
failures. Then serves it with a real ``datasette serve`` process on
127.0.0.1 (with ``make serve``'s settings) and times HTTP requests to the pages: the first request (cold) and
the median and worst of ``--repeat`` more.

Usage::

    .venv/bin/python bench/browse.py                       # 100,000 articles
    .venv/bin/python bench/browse.py --articles 10000 --keep /tmp/bench.db
"""

from __future__ import annotations

import argparse
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from datasette.utils import tilde_encode  # noqa: E402

from crawler.storage.corpus import open_database  # noqa: E402
from crawler.stories.grouping import sentence_key  # noqa: E402

BASE = datetime(2025, 1, 1)
WORDS = (
    "government minister said report city police court election market president "
    "company people water energy border talks deal vote rights climate school health "
    "price rates bank war peace storm fire flood strike union trade budget tax law "
    "deputy official spokesman agency council region village island north south"
).split()


def vocabulary(rng: random.Random, size: int = 20000) -> tuple[list[str], list[float]]:
    """The words above and ``size`` made-up ones, with Zipf weights (cumulative)."""
    syllables = ["ka", "to", "ri", "mel", "san", "dor", "vi", "lun", "pe", "zor", "an", "ebb"]
    words = list(WORDS)
    while len(words) < size:
        words.append("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    rng.shuffle(words)
    total, cum = 0.0, []
    for rank in range(1, len(words) + 1):
        total += 1 / rank
        cum.append(total)
    return words, cum


def sentence(rng: random.Random, vocab: tuple[list[str], list[float]]) -> str:
    words = rng.choices(vocab[0], cum_weights=vocab[1], k=rng.randint(8, 22))
    return " ".join(words).capitalize() + "."


def story_sizes(n_articles: int, rng: random.Random) -> list[int]:
    """Sizes summing to ``n_articles``: a long tail (one story of ~1 % of the
    corpus, a few of hundreds, many of 2-20, the rest alone)."""
    sizes = [max(2, n_articles // 100)] + [rng.randint(100, 400) for _ in range(5)]
    total = sum(sizes)
    while total < n_articles * 0.6:
        s = rng.randint(2, 20)
        sizes.append(s)
        total += s
    sizes += [1] * max(0, n_articles - total)
    rng.shuffle(sizes)
    return sizes


def build(path: Path, n_articles: int, seed: int = 7) -> dict:
    rng = random.Random(seed)
    vocab = vocabulary(rng)
    open_database(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")
    sites = [f"Outlet {i}" for i in range(300)]
    hosts = [f"news{i}.example" for i in range(300)]
    conn.execute(
        "INSERT INTO crawls (id, spider, args, started_at, finished_at, finish_reason, stats)"
        " VALUES (1, 'bench', '{}', '2025-01-01T00:00:00', '2025-01-01T01:00:00', 'finished', '{}')"
    )
    article_id = 0
    sentence_id = 0
    largest = (0, 0)
    with conn:
        for story_id, size in enumerate(story_sizes(n_articles, rng), start=1):
            pool = [sentence(rng, vocab) for _ in range(min(60, 10 + size))]
            day0 = rng.randint(0, 364)
            articles, sentences = [], []
            first = None
            keys_by_site: dict[str, set[str]] = {}
            members = []
            for _ in range(size):
                article_id += 1
                k = rng.randrange(len(sites))
                site, host = sites[k], hosts[k]
                when = BASE + timedelta(days=day0, minutes=rng.randint(0, 72 * 60))
                published = when.strftime("%Y-%m-%dT%H:%M:00Z")
                n = rng.randint(8, 45)
                body = [
                    rng.choice(pool) if rng.random() < 0.4 else sentence(rng, vocab)
                    for _ in range(n)
                ]
                paragraphs = [" ".join(body[i : i + 3]) for i in range(0, n, 3)]
                title = body[0][:90]
                first = published if first is None or published < first else first
                articles.append(
                    (
                        article_id,
                        f"https://{host}/{story_id}/{article_id}",
                        title,
                        "\n".join(paragraphs),
                        site,
                        published,
                        "en",
                        story_id,
                        1,
                    )
                )
                keys = [(s, sentence_key(s)) for s in body]
                keys_by_site.setdefault(site, set()).update(key for _, key in keys if key)
                members.append((article_id, site, keys))
            for aid, site, keys in members:
                for pos, (s, key) in enumerate(keys):
                    sentence_id += 1
                    others = (
                        sum(1 for o, ks in keys_by_site.items() if o != site and key in ks)
                        if key
                        else 0
                    )
                    sentences.append((sentence_id, story_id, aid, site, pos, s, key, others))
            conn.executemany(
                "INSERT INTO articles (id, url, title, text, site, published, language, story_id,"
                " crawl_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                articles,
            )
            conn.executemany(
                "INSERT INTO story_sentences (id, story_id, article_id, site, position, sentence,"
                " key, outlets) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                sentences,
            )
            conn.execute(
                "INSERT INTO stories (id, title, first_published, article_count) VALUES (?, ?, ?, ?)",
                [story_id, articles[0][2], first, size],
            )
            largest = max(largest, (size, story_id))
        conn.executemany(
            "INSERT INTO duplicates (url, article_id, kind, similarity, site, crawl_id, seen_at)"
            " VALUES (?, ?, ?, ?, ?, 1, '2025-06-01T00:00:00')",
            [
                (
                    f"https://copy{i % 50}.example/{i}",
                    rng.randint(1, article_id),
                    "near",
                    0.9,
                    "Copy",
                )
                for i in range(n_articles // 10)
            ],
        )
        stages = ("download", "parse", "extract", "validate", "store")
        conn.executemany(
            "INSERT INTO failures (url, stage, reason, http_status, crawl_id, at) VALUES"
            " (?, ?, 'bench', 404, 1, ?)",
            [
                (
                    f"https://{rng.choice(hosts)}/missing/{i}",
                    rng.choice(stages),
                    f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T10:00:00",
                )
                for i in range(n_articles // 5)
            ],
        )
    conn.execute("ANALYZE")
    conn.close()
    return {"articles": article_id, "largest": largest, "sentences": sentence_id}


def serve(path: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    datasette = Path(sys.executable).parent / "datasette"
    proc = subprocess.Popen(
        # as make serve runs it
        [str(datasette), "serve", str(path), "-h", "127.0.0.1", "-p", str(port)]
        + ["--setting", "suggest_facets", "off"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(f"{base}/-/versions.json", timeout=2).read()
            return proc, base
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("datasette did not start")


def timed(url: str) -> float:
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as r:
        r.read()
        assert r.status == 200, (url, r.status)
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="build (or reuse) the corpus at this path")
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="bench-browse-")
    path = args.keep or Path(tmp.name) / "bench news.db"
    if not path.exists():
        start = time.perf_counter()
        info = build(path, args.articles)
        print(
            f"built {info['articles']:,} articles, {info['sentences']:,} sentences in "
            f"{time.perf_counter() - start:.1f} s ({path.stat().st_size / 1e6:.0f} MB)"
        )
    conn = sqlite3.connect(path)
    (n,) = conn.execute("SELECT count(*) FROM articles").fetchone()
    largest, big = conn.execute(
        "SELECT id, article_count FROM stories ORDER BY article_count DESC LIMIT 1"
    ).fetchone()
    (median,) = conn.execute(
        "SELECT id FROM stories WHERE article_count BETWEEN 8 AND 12 LIMIT 1"
    ).fetchone()
    (single,) = conn.execute("SELECT id FROM stories WHERE article_count = 1 LIMIT 1").fetchone()
    conn.close()
    words = vocabulary(random.Random(7))[0]  # as build() drew them
    proc, base = serve(path)
    pages = {
        "stories list": "/-/stories",
        "stories list, page 40": "/-/stories?page=40",
        "stories search (the commonest word)": f"/-/stories?q={words[0]}",
        "stories search (100th word)": f"/-/stories?q={words[99]}",
        "stories search (5,000th word)": f"/-/stories?q={words[4999]}",
        "stories search (two words)": f"/-/stories?q={words[9]}+{words[19]}",
        f"story, largest ({big:,} articles)": f"/-/story/{largest}",
        "story, largest, later columns": f"/-/story/{largest}?offset=800",
        "story, ~10 articles": f"/-/story/{median}",
        "story, 1 article": f"/-/story/{single}",
        "crawl health": "/-/crawl-health",
        "articles table (story links)": f"/{tilde_encode(path.stem)}/articles",
    }
    print(f"{n:,} articles; ms per HTTP request (first, median of {args.repeat}, worst):")
    try:
        for label, page in pages.items():
            first = timed(base + page)
            runs = [timed(base + page) for _ in range(args.repeat)]
            print(f"  {label:38} {first:7.1f} {statistics.median(runs):7.1f} {max(runs):7.1f}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        tmp.cleanup()


if __name__ == "__main__":
    main()
