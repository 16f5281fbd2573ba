#!/usr/bin/env python3
"""Extraction bench: the crawler's text beside trafilatura and readability-lxml.

Scores ``crawler.extract.processing:extract_text`` (the exact path the crawler
stores) and two anchors, trafilatura (``include_comments=False``) and
readability-lxml, on the same pages in the same process, with the metric of the
shared benchmark's ``score.py`` and the anchors' adapters from its
``baselines.py`` (both imported from that folder at run time, never copied; the
pages are read from there too). For each split (``dev`` and ``dev-wide``) it prints:

* F1, P, R, mean page F1, empty outputs and median/p95 ms per page, overall and
  per source, for ours and the anchors;
* the targets of issue 17: ours minus the better anchor, overall and per source
  (on ``readability``, whose truth is Readability.js output, the anchor is
  trafilatura alone), and recall minus precision;
* the catastrophic pages: ours under 0.3 F1 while trafilatura has 0.7 or more;
* the time ratio to trafilatura: median ms per page, and total time;
* the ``--worst`` pages by our F1;
* with ``--stages``, where our recall goes, per source: the mean page recall
  after extraction, after the comment-thread cut and after the line cleaner,
  and the words of the truth that each line-cleaner reason removed (a line the
  truth holds: a real paragraph dropped, or a headline, byline or dateline the
  source's truth counts as text).

Usage::

    .venv/bin/python bench/extraction.py                  # both splits
    .venv/bin/python bench/extraction.py --shared /work/shared --split dev-wide
    CORPUS_SHARED_DIR=/work/shared .venv/bin/python bench/extraction.py --json out.json

readability-lxml comes with the ``bench`` extra (``pip install -e '.[bench]'``);
without it that column is left out. Exit status is 0 whenever the bench ran (it
reports, it does not gate); 2 when the benchmark folder is missing.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SPLITS = ("dev", "dev-wide")
CATASTROPHIC_OURS = 0.3
CATASTROPHIC_ANCHOR = 0.7

Extractor = Callable[[bytes, str | None], str]


def default_shared() -> Path:
    """CORPUS_SHARED_DIR, else ``shared`` beside the repository (as the tests look)."""
    if os.environ.get("CORPUS_SHARED_DIR"):
        return Path(os.environ["CORPUS_SHARED_DIR"])
    return REPO.parent / "shared"


def _import_from(folder: Path, name: str) -> Any:
    """A stdlib-only module of the shared benchmark, imported from its folder."""
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    return importlib.import_module(name)


def _run_all(extractors: dict[str, Extractor], pages: list[dict], score: Any) -> dict:
    """Every extractor on every page, interleaved page by page, so that load from
    other processes on a shared machine falls on all of them alike."""
    for func in extractors.values():  # one untimed warm-up call each, as score.py does
        try:
            func(pages[0]["_html"], pages[0].get("url"))
        except Exception:  # noqa: BLE001
            pass
    rows: dict[str, list[dict]] = {name: [] for name in extractors}
    for rec in pages:
        for name, func in extractors.items():
            err = None
            t0 = time.perf_counter()
            try:
                text = func(rec["_html"], rec.get("url")) or ""
            except Exception as exc:  # noqa: BLE001 - a failure scores as empty output
                text, err = "", f"{type(exc).__name__}: {exc}"[:200]
            ms = (time.perf_counter() - t0) * 1000.0
            row = score.score_page(rec["text"], text)
            row.update(id=rec["id"], source=rec.get("source"), url=rec.get("url"), ms=ms, error=err)
            rows[name].append(row)
    return rows


def _summary(rows: list[dict], score: Any) -> dict:
    out = score.aggregate(rows)
    ms = [r["ms"] for r in rows]
    out["pages"] = len(rows)
    out["ms_median"] = statistics.median(ms)
    out["ms_p95"] = score.percentile(ms, 95)
    out["ms_total"] = sum(ms)
    out["empty"] = sum(1 for r in rows if r["pred_tokens"] == 0)
    out["errors"] = sum(1 for r in rows if r["error"])
    return out


def _by_source(rows: list[dict], score: Any) -> dict[str, dict]:
    groups: dict[str, list[dict]] = {"all": rows}
    for r in rows:
        groups.setdefault(r["source"] or "?", []).append(r)
    return {name: _summary(g, score) for name, g in groups.items()}


def _anchor_for(source: str, anchors: dict[str, dict[str, dict]]) -> tuple[str, float]:
    """The better anchor's F1 on ``source`` (trafilatura alone on ``readability``)."""
    names = ["trafilatura"] if source == "readability" else list(anchors)
    best = max(names, key=lambda n: anchors[n][source]["f1"])
    return best, anchors[best][source]["f1"]


def _stage_report(pages: list[dict], score: Any) -> dict:
    """Recall after each step of our path, and the truth's shingles each cleaner
    reason removed (the steps of ``crawler.extract.processing.process_page``)."""
    from crawler.extract.cleaning import clean_text
    from crawler.extract.comments import without_comment_threads
    from crawler.extract.decoding import decode
    from crawler.extract.maintext import extract_html

    recall: dict[str, dict[str, list[float]]] = {}
    lost: dict[str, dict[str, int]] = {}
    for rec in pages:
        ext = extract_html(decode(rec["_html"], is_html=True).text, rec.get("url"))
        threadless = without_comment_threads(ext.text, frozenset())
        cleaned = clean_text(threadless, title=ext.title)
        src = rec.get("source") or "?"
        for group in ("all", src):
            got = recall.setdefault(group, {"extracted": [], "comments": [], "cleaned": []})
            for stage, text in (
                ("extracted", ext.text),
                ("comments", threadless),
                ("cleaned", cleaned.text),
            ):
                got[stage].append(score.score_page(rec["text"], text)["recall"])
        truth = score.shingles(score.tokenize(rec["text"]))
        for line, why in cleaned.removed:
            good = sum((score.shingles(score.tokenize(line)) & truth).values())
            if good:
                for group in ("all", src):
                    by = lost.setdefault(group, {})
                    by[why] = by.get(why, 0) + good
    print(
        "\nwhere recall goes (mean page recall after each step; truth shingles removed by reason)"
    )
    for group in ["all"] + sorted(g for g in recall if g != "all"):
        r = {k: statistics.mean(v) for k, v in recall[group].items()}
        print(
            f"  {group:<17} extracted {r['extracted']:.3f}  comment cut {r['comments']:.3f}"
            f"  line cleaner {r['cleaned']:.3f}"
        )
        top = sorted(lost.get(group, {}).items(), key=lambda kv: -kv[1])[:6]
        if top:
            print("    " + "; ".join(f"{why} {n}" for why, n in top))
    return {"recall": recall, "lost": lost}


def bench_split(
    folder: Path, extractors: dict[str, Extractor], score: Any, args: argparse.Namespace
) -> dict:
    pages = score.load_split(str(folder), limit=args.limit)
    results = _run_all(extractors, pages, score)
    tables = {name: _by_source(rows, score) for name, rows in results.items()}
    sources = ["all"] + sorted(s for s in tables["ours"] if s != "all")

    print(f"\n== {folder.name}: {len(pages)} pages from {folder}")
    print(
        f"{'source':<17}{'extractor':<13}{'F1':>7}{'P':>7}{'R':>7}{'mF1':>7}{'pages':>7}"
        f"{'empty':>7}{'err':>5}{'ms_med':>8}{'ms_p95':>8}"
    )
    for source in sources:
        for name in extractors:
            s = tables[name][source]
            print(
                f"{source:<17}{name:<13}{s['f1']:>7.3f}{s['precision']:>7.3f}"
                f"{s['recall']:>7.3f}{s['macro_f1']:>7.3f}{s['pages']:>7}{s['empty']:>7}"
                f"{s['errors']:>5}{s['ms_median']:>8.1f}{s['ms_p95']:>8.1f}"
            )
    anchors = {n: t for n, t in tables.items() if n != "ours"}
    targets = {}
    if anchors:
        print("\ntargets (issue 17): ours - better anchor; R - P")
        for source in sources:
            name, f1 = _anchor_for(source, anchors)
            ours = tables["ours"][source]
            delta = ours["f1"] - f1
            targets[source] = {"anchor": name, "anchor_f1": f1, "delta": delta}
            print(
                f"  {source:<17} ours {ours['f1']:.3f}  {name} {f1:.3f}  ({delta:+.3f})"
                f"   R - P {ours['recall'] - ours['precision']:+.3f}"
            )

    ratio = float("nan")
    if "trafilatura" in tables:
        o, t = tables["ours"]["all"], tables["trafilatura"]["all"]
        ratio = o["ms_median"] / t["ms_median"] if t["ms_median"] else float("nan")
        total = o["ms_total"] / t["ms_total"] if t["ms_total"] else float("nan")
        print(
            f"\ntime ratio to trafilatura (ours / trafilatura): median per page {ratio:.2f}x,"
            f" total {total:.2f}x"
        )
        traf = {r["id"]: r for r in results["trafilatura"]}
        cat = [
            (r, traf[r["id"]])
            for r in results["ours"]
            if r["f1"] < CATASTROPHIC_OURS and traf[r["id"]]["f1"] >= CATASTROPHIC_ANCHOR
        ]
        print(
            f"\ncatastrophic pages (ours < {CATASTROPHIC_OURS} F1 while trafilatura >= "
            f"{CATASTROPHIC_ANCHOR}): {len(cat)}"
        )
        for o_row, t_row in cat:
            print(
                f"  {o_row['id']:<34} ours {o_row['f1']:.3f}  trafilatura {t_row['f1']:.3f}"
                f"  {o_row['url']}"
            )

    if args.worst:
        print(f"\n{args.worst} worst pages (ours):")
        print(f"  {'id':<34}{'P':>7}{'R':>7}{'F1':>7}{'traf':>7}{'true':>7}{'pred':>7}  url")
        traf_f1 = {r["id"]: r["f1"] for r in results.get("trafilatura", [])}
        for o in sorted(results["ours"], key=lambda r: r["f1"])[: args.worst]:
            print(
                f"  {o['id']:<34}{o['precision']:>7.3f}{o['recall']:>7.3f}{o['f1']:>7.3f}"
                f"{traf_f1.get(o['id'], float('nan')):>7.3f}{o['true_tokens']:>7}"
                f"{o['pred_tokens']:>7}  {o['url']}"
            )
    stages = _stage_report(pages, score) if args.stages else None
    return {
        "tables": tables,
        "targets": targets,
        "time_ratio": ratio,
        "pages": results,
        "stages": stages,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument(
        "--shared",
        type=Path,
        default=None,
        help="the shared folder holding bench/extraction (default: $CORPUS_SHARED_DIR, "
        "else ../shared beside the repository)",
    )
    ap.add_argument("--split", action="append", choices=SPLITS, help="only this split (repeatable)")
    ap.add_argument("--worst", type=int, default=10, help="how many worst pages to list")
    ap.add_argument("--limit", type=int, default=None, help="only the first N pages per split")
    ap.add_argument(
        "--func",
        default="crawler.extract.processing:extract_text",
        help="our extractor as MODULE:FUNC (default: the crawler's path)",
    )
    ap.add_argument(
        "--stages",
        action="store_true",
        help="also report recall after each step of our path and what the line cleaner "
        "removed that the truth holds (one more pass over the pages)",
    )
    ap.add_argument("--no-anchors", action="store_true", help="score ours alone (quicker)")
    ap.add_argument("--json", type=Path, default=None, help="write summaries and page rows here")
    args = ap.parse_args(argv)

    bench = (args.shared or default_shared()).resolve() / "bench" / "extraction"
    if not (bench / "score.py").is_file():
        print(f"extraction benchmark not found: {bench} (expected score.py)", file=sys.stderr)
        return 2
    score = _import_from(bench, "score")
    baselines = _import_from(bench, "baselines")
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    mod_name, func_name = args.func.rsplit(":", 1)
    extractors: dict[str, Extractor] = {
        "ours": getattr(importlib.import_module(mod_name), func_name)
    }
    if not args.no_anchors:
        extractors["trafilatura"] = baselines.trafilatura_no_comments
        try:
            importlib.import_module("readability")
            importlib.import_module("html_text")
        except ImportError:
            print(
                "readability-lxml or html-text is not installed (pip install -e '.[bench]'):"
                " its column is left out",
                file=sys.stderr,
            )
        else:
            extractors["readability"] = baselines.readability_lxml

    out = {}
    for split in args.split or SPLITS:
        folder = bench / split
        if not (folder / "truth.jsonl").is_file():
            print(f"benchmark split not found: {folder}", file=sys.stderr)
            return 2
        out[split] = bench_split(folder, extractors, score, args)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1, default=str))
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
