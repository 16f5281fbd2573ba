#!/usr/bin/env python3
"""Stories bench: story grouping and near-duplicates through the real pipeline.

Reads the shared stories bench (ECB+ and BASIL, ``dev`` split) at run time,
never copies it into the repo. Both corpora are crawled into one temporary
corpus, interleaved (their clocks differ, 2004-2013 and 2010-2016, but a real
corpus mixes topics too, and one corpus gives the idf a realistic breadth):

1. writes every record as an HTML page into a temporary folder: ``<title>``,
   ``<h1>``, the text's paragraphs as ``<p>``, ``article:published_time`` and
   ``og:site_name`` when the record has them, and ``<link rel="canonical">``
   (the record's URL, or ``https://<corpus>.bench.invalid/<id>``). File names
   follow a deterministic shuffle of the record ids, so the arrival order
   carries no metadata (``--order published`` uses publication order instead);
2. crawls the folder with ``scrapy crawl files`` (a subprocess, one request at
   a time, cleaned in the crawl process, so arrival order is fixed) into a
   temporary corpus;
3. reads ``articles.story_id`` and ``duplicates`` back (rows are mapped to
   bench ids through ``fetched_url``, the file each came from) and scores them
   with the bench's ``score.py``: BCubed per corpus and overall, near-duplicate
   pairs and pairs crossing two stories. Records the crawler turned into
   failures (too short after cleaning) are counted and score as singletons.

``--min-words N`` crawls with ``-s CLEAN_MIN_WORDS=N`` (what a user grouping
short wire items would set; the default keeps the crawler's own minimum).
``--rebuild`` also scores ``scrapy stories rebuild`` on the same corpora;
``--scaling`` runs ``bench/story_scaling.py`` afterwards.

Usage::

    .venv/bin/python bench/stories.py                  # ../shared/bench/stories/dev
    .venv/bin/python bench/stories.py --rebuild --scaling --json out.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from storybench import (
    DEFAULT_BENCH,
    REPO,
    found,
    half_of,
    load_records,
    page,
    read_jsonl,
)


def arrival_key(order: str):
    def shuffled(rec: dict) -> str:
        return hashlib.sha1(rec["id"].encode()).hexdigest()

    def published(rec: dict) -> tuple[str, str]:
        return (rec.get("published") or "", shuffled(rec))

    return published if order == "published" else shuffled


def crawl(folder: Path, db: Path, min_words: int | None = None) -> tuple[int, float, str]:
    t0 = time.perf_counter()
    extra = ["-s", f"CLEAN_MIN_WORDS={min_words}"] if min_words is not None else []
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            "crawl",
            "files",
            "-a",
            f"path={folder}",
            "-s",
            f"CORPUS_DB={db}",
            "-s",
            "CONCURRENT_REQUESTS=1",
            "-s",
            "CLEAN_WORKERS=0",
            "-s",
            "LOG_LEVEL=WARNING",
            *extra,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    return proc.returncode, time.perf_counter() - t0, proc.stderr[-2000:]


def rebuild(db: Path) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", "stories", "rebuild", "--db", str(db)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    if proc.returncode:
        sys.exit(f"scrapy stories rebuild failed: {proc.stderr[-2000:]}")
    return time.perf_counter() - t0


def read_back(db: Path, by_file: dict[str, dict]) -> dict:
    import sqlite3

    conn = sqlite3.connect(db)
    out: dict = {"stories": {}, "pairs": [], "failures": [], "kept": {}}
    for fetched, story_id, aid in conn.execute("SELECT fetched_url, story_id, id FROM articles"):
        rec = by_file[fetched.rsplit("/", 1)[1]]
        out["stories"][rec["id"]] = f"{rec['corpus']}:{story_id}"
        out["kept"][aid] = rec["id"]
    for fetched, aid, kind in conn.execute("SELECT fetched_url, article_id, kind FROM duplicates"):
        rec = by_file[fetched.rsplit("/", 1)[1]]
        kept = out["kept"].get(aid)
        if kept is None:
            continue
        out["stories"][rec["id"]] = out["stories"][kept]
        out["pairs"].append({"id1": rec["id"], "id2": kept, "kind": kind, "dup_group": kept})
    for url, reason in conn.execute("SELECT url, reason FROM failures"):
        out["failures"].append((by_file[url.rsplit("/", 1)[1]]["id"], reason))
    conn.close()
    return out


def half_gold(bench: Path, folder: Path, half: str) -> Path:
    """A gold folder of the same layout holding one half of the topics."""
    out = folder / f"gold-{half}"
    out.mkdir(parents=True, exist_ok=True)
    keep = set()
    for corpus in ("ecbplus", "basil"):
        recs = [r for r in load_records(bench) if r["corpus"] == corpus and half_of(r) == half]
        keep |= {r["id"] for r in recs}
        (out / f"{corpus}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    pairs = [p for p in read_jsonl(bench / "dev" / "near_dups.jsonl") if p["id1"] in keep]
    (out / "near_dups.jsonl").write_text("".join(json.dumps(p) + "\n" for p in pairs))
    return out


def score(bench: Path, mode: str, rows: list[dict], gold: Path | None = None) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as fh:
        fh.write("".join(json.dumps(r) + "\n" for r in rows))
    cmd = [
        sys.executable,
        str(bench / "score.py"),
        mode,
        "--gold-dir",
        str(gold or bench / "dev"),
        "--pred",
        fh.name,
        "--json",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    Path(fh.name).unlink()
    return json.loads(proc.stdout)["results"]


def run(
    bench: Path, order: str, do_rebuild: bool, keep: Path | None, min_words: int | None = None
) -> dict:
    records = load_records(bench)
    result: dict = {"crawl": {}, "online": {}, "rebuild": {}}
    preds: dict[str, list] = {"online": [], "rebuild": []}
    with tempfile.TemporaryDirectory(prefix="stories-bench-") as tmp:
        base = keep or Path(tmp)
        folder = base / "pages"
        folder.mkdir(parents=True, exist_ok=True)
        by_file = {}
        for n, rec in enumerate(sorted(records, key=arrival_key(order))):
            name = f"{n:05d}.html"
            (folder / name).write_text(page(rec), encoding="utf-8")
            by_file[name] = rec
        db = base / "corpus.db"
        db.unlink(missing_ok=True)
        code, secs, err = crawl(folder, db, min_words)
        if code:
            sys.exit(f"crawl failed ({code}): {err}")
        back = read_back(db, by_file)
        for corpus in ("ecbplus", "basil"):
            mine = {r["id"] for r in records if r["corpus"] == corpus}
            fails = [(i, r) for i, r in back["failures"] if i in mine]
            result["crawl"][corpus] = {
                "records": len(mine),
                "articles": sum(1 for v in back["kept"].values() if v in mine),
                "duplicates": sum(1 for p in back["pairs"] if p["id1"] in mine),
                "failures": len(fails),
                "failure_reasons": sorted({r.split(":")[0] for _, r in fails}),
            }
        result["crawl"]["seconds"] = round(secs, 1)
        result["crawl"]["clean_min_words"] = min_words
        preds["online"] = [{"id": i, "story_pred": s} for i, s in back["stories"].items()]
        pairs = back["pairs"]
        if do_rebuild:
            result["crawl"]["rebuild_seconds"] = round(rebuild(db), 1)
            again = read_back(db, by_file)
            preds["rebuild"] = [{"id": i, "story_pred": s} for i, s in again["stories"].items()]
    for mode in ("online", "rebuild") if do_rebuild else ("online",):
        report = score(bench, "clusters", preds[mode])
        for corpus in ("ecbplus", "basil", "all"):
            rep = report[corpus]
            result[mode][corpus] = {
                k: rep.get(k)
                for k in (
                    "bcubed_p",
                    "bcubed_r",
                    "bcubed_f1",
                    "pair_f1",
                    "pred_stories",
                    "gold_stories",
                )
            }
    with tempfile.TemporaryDirectory(prefix="stories-halves-") as tmp:
        for half in ("odd", "even"):
            gold = half_gold(bench, Path(tmp), half)
            for mode in ("online", "rebuild") if do_rebuild else ("online",):
                rep = score(bench, "clusters", preds[mode], gold)
                result.setdefault("halves", {}).setdefault(mode, {})[half] = {
                    c: rep[c]["bcubed_f1"] for c in ("ecbplus", "basil", "all") if c in rep
                }
    direct = [{"id1": p["id1"], "id2": p["id2"]} for p in pairs]
    result["near_duplicates"] = score(bench, "pairs", direct)["all"]
    groups = [{"id": p["id1"], "dup_group": p["dup_group"]} for p in pairs]
    groups += [{"id": p["dup_group"], "dup_group": p["dup_group"]} for p in pairs]
    result["near_duplicates_as_groups"] = score(bench, "pairs", groups)["all"]
    result["near_duplicates"]["by_kind"] = dict(_count(p["kind"] for p in pairs))
    return result


def _count(items):
    counts: dict[str, int] = defaultdict(int)
    for item in items:
        counts[item] += 1
    return counts


def show(result: dict) -> None:
    print("crawl:")
    print(
        f"  one crawl of both corpora into one corpus: {result['crawl']['seconds']} s"
        f" (rebuild {result['crawl'].get('rebuild_seconds', '-')} s),"
        f" CLEAN_MIN_WORDS {result['crawl'].get('clean_min_words') or 'default'}"
    )
    for corpus in ("ecbplus", "basil"):
        c = result["crawl"][corpus]
        print(
            f"  {corpus:8s} {c['records']} records -> {c['articles']} articles, "
            f"{c['duplicates']} duplicates, {c['failures']} failures {c['failure_reasons']}"
        )
    for mode in ("online", "rebuild"):
        if not result.get(mode):
            continue
        print(f"story grouping ({mode}): BCubed P / R / F1, pairwise F1, stories predicted/gold")
        for corpus, r in result[mode].items():
            print(
                f"  {corpus:8s} {r['bcubed_p']:.3f} / {r['bcubed_r']:.3f} / {r['bcubed_f1']:.3f}"
                f"   pair F1 {r['pair_f1']:.3f}   {r['pred_stories']}/{r['gold_stories']}"
            )
    for mode, halves in result.get("halves", {}).items():
        print(f"BCubed F1 ({mode}) by half of the topics (tune on one, report the other):")
        for half, figures in halves.items():
            print(f"  {half:5s} " + "   ".join(f"{c} {v:.3f}" for c, v in figures.items()))
    # The duplicates table records each copy against its kept article, so the
    # copies of one article form a group (score.py's dup_group input, expanded
    # to all pairs): that is what the corpus says. The direct copy-kept pairs
    # alone leave out the pairs between two copies.
    labels = {
        "near_duplicates_as_groups": "near-duplicate groups (kept article and its copies)",
        "near_duplicates": "direct pairs only (copy, kept article)",
    }
    for key in ("near_duplicates_as_groups", "near_duplicates"):
        nd = result[key]
        print(
            f"{labels[key]}: P / R / F1 {nd['p']:.3f} / {nd['r']:.3f} / {nd['f1']:.3f},"
            f" predicted pairs {nd['pred_pairs']}, crossing stories "
            f"{nd['pred_pairs_crossing_stories']}, by kind {nd.get('by_kind', '')}"
        )


# --- agreement between arrival orders (issue #23) ------------------------------------
# The same pages crawled in other orders, with the default settings (cleaning
# workers on, concurrent requests): the stories (BCubed of one run against
# another taken as truth) and the duplicate groups must agree.


def _bcubed(pred: dict[str, str], truth: dict[str, str]) -> tuple[float, float, float]:
    def clusters(labels: dict[str, str]) -> dict[str, set[str]]:
        out: dict[str, set[str]] = defaultdict(set)
        for item, label in labels.items():
            out[label].add(item)
        return {item: out[label] for item, label in labels.items()}

    items = sorted(set(pred) | set(truth))
    cp = clusters({i: pred.get(i, f"single:{i}") for i in items})
    ct = clusters({i: truth.get(i, f"single:{i}") for i in items})
    p = sum(len(cp[i] & ct[i]) / len(cp[i]) for i in items) / len(items)
    r = sum(len(cp[i] & ct[i]) / len(ct[i]) for i in items) / len(items)
    return p, r, 2 * p * r / (p + r) if p + r else 0.0


def order_agreement(records: list[dict], runs: int, min_words: int | None = None) -> dict:
    """Crawl the records ``runs`` times, in other file orders, with the default
    settings, and compare each run with the first: stories (BCubed), duplicate
    groups (kept article and copies) and kept articles."""
    extra = ["-s", f"CLEAN_MIN_WORDS={min_words}"] if min_words is not None else []
    seen = []
    with tempfile.TemporaryDirectory(prefix="stories-orders-") as tmp:
        for run in range(runs):
            folder = Path(tmp) / f"pages{run}"
            folder.mkdir()
            by_file = {}
            salt = f"order-{run}:".encode()
            for rec in sorted(
                records, key=lambda r: hashlib.sha1(salt + r["id"].encode()).digest()
            ):
                name = f"{len(by_file):05d}.html"
                (folder / name).write_text(page(rec), encoding="utf-8")
                by_file[name] = rec
            db = Path(tmp) / f"corpus{run}.db"
            t0 = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-m", "scrapy", "crawl", "files", "-a", f"path={folder}",
                 "-s", f"CORPUS_DB={db}", "-s", "LOG_LEVEL=WARNING", *extra],
                cwd=REPO, capture_output=True, text=True,
            )  # fmt: skip
            if proc.returncode:
                sys.exit(f"crawl failed ({proc.returncode}): {proc.stderr[-2000:]}")
            back = read_back(db, by_file)
            settle = _settle_cost(db)
            groups = defaultdict(set)
            for pair in back["pairs"]:
                groups[pair["dup_group"]] |= {pair["id1"], pair["id2"]}
            seen.append(
                {
                    "seconds": round(time.perf_counter() - t0, 1),
                    "stories": back["stories"],
                    "groups": {frozenset(g) for g in groups.values()},
                    "kept": set(back["kept"].values()),
                    "settle": settle,
                }
            )
    first = seen[0]
    out: dict = {"runs": runs, "against_first": [], "settle": [s["settle"] for s in seen]}
    for other in seen[1:]:
        p, r, f1 = _bcubed(other["stories"], first["stories"])
        out["against_first"].append(
            {
                "bcubed_p": round(p, 4),
                "bcubed_r": round(r, 4),
                "bcubed_f1": round(f1, 4),
                "dup_groups_differing": len(first["groups"] ^ other["groups"]),
                "dup_groups": len(first["groups"]),
                "kept_differing": len(first["kept"] ^ other["kept"]),
                "seconds": other["seconds"],
            }
        )
    return out


def _settle_cost(db: Path) -> dict:
    """What the end-of-crawl settle cost (crawls.stats, ``corpus/settle/*``)."""
    import sqlite3

    conn = sqlite3.connect(db)
    stats = json.loads(conn.execute("SELECT stats FROM crawls ORDER BY id DESC").fetchone()[0])
    pages = stats.get("response_received_count") or stats.get("files/found", 0)
    conn.close()
    return {
        "seconds": stats.get("corpus/settle/seconds", 0.0),
        "cpu_seconds": stats.get("corpus/settle/cpu_seconds", 0.0),
        "articles_regrouped": stats.get("corpus/settle/story_articles", 0),
        "pages": pages,
    }


def show_agreement(agreement: dict) -> None:
    print(
        f"agreement between {agreement['runs']} arrival orders (default settings, cleaning"
        " workers on), each run against the first:"
    )
    for k, a in enumerate(agreement["against_first"], 2):
        print(
            f"  run {k}: stories BCubed P / R / F1 {a['bcubed_p']:.3f} / {a['bcubed_r']:.3f} /"
            f" {a['bcubed_f1']:.3f}; duplicate groups differing {a['dup_groups_differing']}"
            f" of {a['dup_groups']}; kept articles differing {a['kept_differing']}"
        )
    for k, c in enumerate(agreement.get("settle", []), 1):
        print(
            f"  run {k}: end-of-crawl settle {c['seconds']:.2f} s, {c['cpu_seconds']:.2f} s CPU"
            f" ({c['articles_regrouped']} articles regrouped)"
        )


# --- end of the agreement between arrival orders ----------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--bench", type=Path, default=DEFAULT_BENCH, help="the shared stories bench folder"
    )
    ap.add_argument("--order", choices=["shuffled", "published"], default="shuffled")
    ap.add_argument("--rebuild", action="store_true", help="also score `scrapy stories rebuild`")
    ap.add_argument("--scaling", action="store_true", help="also run bench/story_scaling.py")
    ap.add_argument(
        "--min-words",
        type=int,
        metavar="N",
        help="crawl with -s CLEAN_MIN_WORDS=N (default: the crawler's setting, 25);"
        " ECB+ has 27 wire items under 25 words that otherwise fail cleaning and"
        " score as singletons",
    )
    ap.add_argument(
        "--orders",
        type=int,
        default=3,
        metavar="N",
        help="also crawl the pages in N arrival orders with the default settings and report"
        " how the runs agree (0: skip)",
    )
    ap.add_argument("--keep", type=Path, help="keep pages and corpora in this folder")
    ap.add_argument("--json", type=Path, help="write the figures here as JSON")
    args = ap.parse_args(argv)
    if not found(args.bench):
        print(f"stories bench not found in {args.bench}", file=sys.stderr)
        return 2
    result = run(args.bench, args.order, args.rebuild, args.keep, args.min_words)
    show(result)
    if args.orders > 1:  # (issue #23: see order_agreement)
        records = [
            r for c in ("ecbplus", "basil") for r in read_jsonl(args.bench / "dev" / f"{c}.jsonl")
        ]
        result["order_agreement"] = order_agreement(records, args.orders, args.min_words)
        show_agreement(result["order_agreement"])
    if args.scaling:
        sys.path.insert(0, str(REPO / "bench"))
        import story_scaling

        result["scaling"] = story_scaling.main([])
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
