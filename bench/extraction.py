#!/usr/bin/env python3
"""Extraction bench: the crawler's text vs trafilatura's default, same run.

Scores ``crawler.extract.processing:extract_text`` (the exact path the crawler stores)
and ``trafilatura.extract`` with library defaults on the same pages, in the
same process, with the metric of ``score.py`` from the shared benchmark
(imported from that folder at run time, never copied). Prints:

* F1, P, R, mean page F1 and median/p95 ms per page for both, and the speed ratio;
* the per-page check: pages where ours is more than ``--tolerance`` F1 worse
  than trafilatura on the same page;
* the ``--worst`` pages by our F1.

Usage::

    .venv/bin/python bench/extraction.py                 # ../shared/bench/extraction/dev
    .venv/bin/python bench/extraction.py --dev-dir PATH --worst 15 --json out.json

Exit status is 0 whenever the bench ran (it reports, it does not gate); 2 when
the benchmark folder is missing.
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DEV = REPO.parent / "shared" / "bench" / "extraction" / "dev"


def _load_score(bench_dir: Path):
    """The shared benchmark's score.py (stdlib only), imported from its folder."""
    if str(bench_dir) not in sys.path:
        sys.path.insert(0, str(bench_dir))
    return importlib.import_module("score")


def _trafilatura_default(html: bytes, url: str | None) -> str:
    import trafilatura

    return trafilatura.extract(html, url=url) or ""


def _run(func, pages, score) -> list[dict]:
    # One untimed warm-up call, as score.py does.
    try:
        func(pages[0]["_html"], pages[0].get("url"))
    except Exception:  # noqa: BLE001
        pass
    rows = []
    for rec in pages:
        err = None
        t0 = time.perf_counter()
        try:
            text = func(rec["_html"], rec.get("url")) or ""
        except Exception as exc:  # noqa: BLE001 - a failure scores as empty output
            text, err = "", f"{type(exc).__name__}: {exc}"[:200]
        ms = (time.perf_counter() - t0) * 1000.0
        row = score.score_page(rec["text"], text)
        row.update(id=rec["id"], url=rec.get("url"), ms=ms, error=err)
        rows.append(row)
    return rows


def _summary(rows, score) -> dict:
    out = score.aggregate(rows)
    ms = [r["ms"] for r in rows]
    out["ms_median"] = statistics.median(ms)
    out["ms_p95"] = score.percentile(ms, 95)
    out["empty"] = sum(1 for r in rows if r["pred_tokens"] == 0)
    out["errors"] = sum(1 for r in rows if r["error"])
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--dev-dir",
        type=Path,
        default=DEFAULT_DEV,
        help=f"benchmark split folder (default: {DEFAULT_DEV})",
    )
    ap.add_argument("--worst", type=int, default=10, help="how many worst pages to list")
    ap.add_argument(
        "--tolerance",
        type=float,
        default=0.05,
        help="per-page check: flag pages this much F1 worse than trafilatura",
    )
    ap.add_argument("--limit", type=int, default=None, help="only the first N pages")
    ap.add_argument(
        "--func",
        default="crawler.extract.processing:extract_text",
        help="our extractor as MODULE:FUNC (default: the crawler's path)",
    )
    ap.add_argument("--json", type=Path, default=None, help="write per-page rows here")
    args = ap.parse_args(argv)

    dev = args.dev_dir.resolve()
    if not (dev / "truth.jsonl").is_file():
        print(
            f"benchmark split not found: {dev} (expected truth.jsonl and *.html)", file=sys.stderr
        )
        return 2
    score = _load_score(dev.parent)
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    mod_name, func_name = args.func.rsplit(":", 1)
    ours_func = getattr(importlib.import_module(mod_name), func_name)

    pages = score.load_split(str(dev), limit=args.limit)
    ours = _run(ours_func, pages, score)
    base = _run(_trafilatura_default, pages, score)
    so, sb = _summary(ours, score), _summary(base, score)

    print(f"extraction bench: {len(pages)} pages from {dev}")
    print(
        f"\n{'extractor':<34}{'F1':>7}{'P':>7}{'R':>7}{'mF1':>7}{'empty':>7}"
        f"{'err':>5}{'ms_med':>8}{'ms_p95':>8}"
    )
    for name, s in ((args.func, so), ("trafilatura default", sb)):
        print(
            f"{name:<34}{s['f1']:>7.3f}{s['precision']:>7.3f}{s['recall']:>7.3f}"
            f"{s['macro_f1']:>7.3f}{s['empty']:>7}{s['errors']:>5}"
            f"{s['ms_median']:>8.1f}{s['ms_p95']:>8.1f}"
        )
    ratio = so["ms_median"] / sb["ms_median"] if sb["ms_median"] else float("nan")
    print(
        f"\nF1 difference: {so['f1'] - sb['f1']:+.3f}   "
        f"median speed ratio (ours / trafilatura): {ratio:.2f}x"
    )

    worse = [(o, b) for o, b in zip(ours, base, strict=True) if o["f1"] < b["f1"] - args.tolerance]
    print(
        f"\nper-page check: {len(worse)} page(s) more than {args.tolerance:.2f} F1 "
        f"worse than trafilatura"
    )
    for o, b in sorted(worse, key=lambda ob: ob[0]["f1"] - ob[1]["f1"]):
        print(
            f"  {o['id']:<22} ours {o['f1']:.3f}  trafilatura {b['f1']:.3f}  "
            f"({o['f1'] - b['f1']:+.3f})  {o['url']}"
        )

    print(f"\n{args.worst} worst pages (ours):")
    print(f"  {'id':<22}{'P':>7}{'R':>7}{'F1':>7}{'traf':>7}{'true':>7}{'pred':>7}  url")
    by_id = {b["id"]: b for b in base}
    for o in sorted(ours, key=lambda r: r["f1"])[: args.worst]:
        print(
            f"  {o['id']:<22}{o['precision']:>7.3f}{o['recall']:>7.3f}{o['f1']:>7.3f}"
            f"{by_id[o['id']]['f1']:>7.3f}{o['true_tokens']:>7}{o['pred_tokens']:>7}  {o['url']}"
        )

    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "ours": {"summary": so, "pages": ours},
                    "trafilatura_default": {"summary": sb, "pages": base},
                },
                indent=1,
            )
        )
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
