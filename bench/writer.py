"""The corpus writer's CPU per article, checkouts side by side, with the same results.

    python bench/writer.py [--pages 2000] [--rounds 3] [--compare DIR ...]

1. Generates the bench site (bench/sitegen.py; deterministic) and cleans every
   page once, as the crawl's cleaning workers do (``clean_page``: text,
   features), into a pickle of Articles.
2. For each checkout of the project (``--compare``; default this one), in a
   subprocess run from that checkout (its ``crawler`` package is the one
   imported): a fresh corpus, every Article through ``Corpus.add_article`` in
   page order in the crawl's batch size, then the end of the crawl (settle).
   Prints the CPU of that (this thread's ``thread_time``) per article, the
   settle's apart, and a digest of what was stored (articles, duplicates and
   their kinds, the story partition, sentence outlet marks, posting counts).
   Checkouts alternate, ``--rounds`` times; the digests must agree.

Figures only: nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def clean_site(site: Path, out: Path, base: str = "http://127.0.0.1:8000") -> int:
    """Every page of the site, cleaned once (in 2 processes), pickled to ``out``."""
    from concurrent.futures import ProcessPoolExecutor

    pages = sorted(p for p in site.rglob("*.html"))
    jobs = [(f"{base}/{p.relative_to(site).as_posix()}", str(p), base) for p in pages]
    with ProcessPoolExecutor(2) as pool:
        results = list(pool.map(_clean, jobs, chunksize=16))
    articles = [a for a in results if a is not None]
    out.write_bytes(pickle.dumps(articles))
    return len(articles)


def _clean(job: tuple[str, str, str]) -> object:
    from crawler.extract.processing import clean_page
    from crawler.items import Article, Page

    url, path, base = job
    body = Path(path).read_bytes().replace(b"{base}", base.encode())
    result = clean_page(Page(url, body, "text/html", http_status=200))
    return result if isinstance(result, Article) else None


def digest(db_path: Path) -> dict[str, object]:
    """What was stored, in a form that does not depend on row ids."""
    import sqlite3

    db = sqlite3.connect(db_path)
    q = db.execute
    urls = dict(q("SELECT id, url FROM articles"))
    groups: dict[int, list[str]] = {}
    for aid, sid in q("SELECT id, story_id FROM articles"):
        groups.setdefault(sid, []).append(urls[aid])
    partition = sorted(sorted(g) for g in groups.values())
    dups = sorted(
        (u, urls.get(a), k, round(s or 0, 6))
        for u, a, k, s in q("SELECT url, article_id, kind, similarity FROM duplicates")
    )
    marks = sorted(
        (urls[a], p, o)
        for a, p, o in q(
            "SELECT article_id, position, outlets FROM story_sentences WHERE outlets > 0"
        )
    )

    def h(x: object) -> str:
        return hashlib.sha256(json.dumps(x, default=str).encode()).hexdigest()[:12]

    out: dict[str, object] = {
        "articles": len(urls),
        "duplicates": len(dups),
        "stories": len(groups),
        "partition": h(partition),
        "duplicates_digest": h(dups),
        "marked_sentences": len(marks),
        "marks_digest": h(marks),
        "texts": h(sorted(q("SELECT url, text, content_hash FROM articles"))),
    }
    for table in ("neardup_fingerprints", "story_terms", "story_sentences"):
        try:
            out[f"rows/{table}"] = q(f"SELECT count(*) FROM {table}").fetchone()[0]
        except sqlite3.Error:
            out[f"rows/{table}"] = None
    db.close()
    return out


def replay(articles_path: Path, db_path: Path, batch: int) -> dict[str, object]:
    """Run inside the checkout: every article through the writer, timed."""
    sys.path.insert(0, str(Path.cwd()))
    import crawler
    from crawler.storage.corpus import Corpus

    if not Path(crawler.__file__).resolve().is_relative_to(Path.cwd().resolve()):
        raise SystemExit(f"imported {crawler.__file__}, not the checkout's crawler")

    articles = pickle.loads(articles_path.read_bytes())
    c0 = time.thread_time()
    corpus = Corpus(db_path, batch_size=batch)
    corpus.learn_during_crawl = True
    corpus.start_crawl("bench", {})
    for article in articles:
        corpus.add_article(article)
    corpus.flush()
    written = time.thread_time() - c0
    c1 = time.thread_time()
    corpus.finish_crawl("finished", {})  # the end of the crawl: settle
    settle = time.thread_time() - c1
    corpus.close()
    return {
        "articles_in": len(articles),
        "write_cpu_ms": 1000 * written / len(articles),
        "settle_cpu_ms": 1000 * settle / len(articles),
        **digest(db_path),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--batch", type=int, default=200, help="the crawl's CORPUS_BATCH_SIZE")
    ap.add_argument("--compare", type=Path, nargs="*", default=None, help="checkouts")
    ap.add_argument("--site", type=Path, default=None, help="site folder (default: a temp dir)")
    ap.add_argument("--articles", type=Path, default=None, help="cleaned articles (pickle)")
    ap.add_argument("--replay", type=Path, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--db", type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.replay:
        print(json.dumps(replay(args.replay, args.db, args.batch)))
        return
    sys.path.insert(0, str(HERE))
    sys.path.insert(0, str(ROOT))
    import sitegen

    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        site = args.site or tmpdir / "site"
        if not (site / "manifest.json").exists():
            sitegen.generate(site, args.pages)
        articles = args.articles or tmpdir / "articles.pickle"
        if not articles.exists():
            t0 = time.perf_counter()
            n = clean_site(site, articles)
            print(f"cleaned {n} articles in {time.perf_counter() - t0:.0f} s -> {articles}")
        codes = args.compare or [ROOT]
        per: dict[Path, list[float]] = {c: [] for c in codes}
        settles: dict[Path, list[float]] = {c: [] for c in codes}
        digests: dict[Path, dict[str, object]] = {}
        for r in range(args.rounds):
            for k, code in enumerate(codes if r % 2 == 0 else codes[::-1]):
                db = tmpdir / f"w-{r}-{k}.db"
                proc = subprocess.run(
                    [sys.executable, str(HERE / "writer.py"), "--replay", str(articles)]
                    + ["--db", str(db), "--batch", str(args.batch)],
                    cwd=code,
                    capture_output=True,
                    text=True,
                    env={**os.environ, "PYTHONPATH": str(code)},
                )
                if proc.returncode:
                    raise SystemExit(f"replay in {code} failed:\n{proc.stderr[-3000:]}")
                res = json.loads(proc.stdout.strip().splitlines()[-1])
                per[code].append(float(res["write_cpu_ms"]))
                settles[code].append(float(res["settle_cpu_ms"]))
                d = {k2: v for k2, v in res.items() if not k2.endswith("_ms")}
                if code in digests and digests[code] != d:
                    print(f"  {code}: results differ between rounds")
                digests[code] = d
                print(
                    f"round {r + 1}, {code}: writer {res['write_cpu_ms']:.2f} ms CPU per article,"
                    f" settle {res['settle_cpu_ms']:.2f} ms",
                    flush=True,
                )
        for code, ms in per.items():
            med = sorted(ms)[len(ms) // 2]
            print(
                f"{code}: median {med:.2f} ms CPU per article ({', '.join(f'{m:.2f}' for m in ms)})"
            )
            st = settles[code]
            print(
                f"  settle: median {sorted(st)[len(st) // 2]:.2f} ms CPU per article"
                f" ({', '.join(f'{m:.2f}' for m in st)})"
            )
            print(f"  stored: {json.dumps(digests[code])}")
        first = digests[codes[0]]
        for code in codes[1:]:
            diff = {k: (first.get(k), v) for k, v in digests[code].items() if first.get(k) != v}
            print(
                f"{code} against {codes[0]}: " + ("same results" if not diff else f"DIFFERS {diff}")
            )


if __name__ == "__main__":
    main()
