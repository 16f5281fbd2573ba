"""Reproduce the stories3 result: online assignment + local re-clustering (split/merge).

usage (from the repository root, about 15 minutes):
    .venv/bin/python bench/experiments/story_recluster/final.py
"""
import time
from lib import *
import sim, recluster
from grid_halves import tfs_for

SEEDS = ["bench"] + list(range(10))
METHODS = {
    "current (plain terms, .17)": dict(numbers=False, kw=None),
    "current + numbers": dict(numbers=True, kw=None),
    "recluster, plain terms": dict(numbers=False, kw=dict()),
    "recluster + numbers (RECOMMENDED)": dict(numbers=True, kw=dict()),
    "recluster + numbers, stored weights": dict(numbers=True, kw=dict(reweigh=False)),
}


def one(recs, m, prefill=False):
    after = recluster.make_after(**m["kw"]) if m["kw"] is not None else None
    t = time.perf_counter()
    pred, s = sim.run(recs, tfs_for(recs, m["numbers"]), sim.baseline(0.17), after=after, prefill=prefill)
    dt = (time.perf_counter() - t) / len(recs)
    return bcubed_by_corpus(recs, pred), s, dt


def table(recs_all, label, seeds=SEEDS):
    print(f"\n== {label}: F1 bench order | mean of {len(seeds)-1} shuffles | min   (ECB+ / BASIL / all)")
    for name, m in METHODS.items():
        outs = []
        for seed in seeds:
            recs = bench_order(recs_all) if seed == "bench" else shuffled(seed, recs_all)
            res, s, dt = one(recs, m)
            outs.append(res)
        b, sh = outs[0], outs[1:]
        cell = lambda c: f"{b[c][2]:.3f} | {statistics.mean(o[c][2] for o in sh):.3f} | {min(o[c][2] for o in sh):.3f}"
        print(f"{name:38s} ECB+ {cell('ecbplus')}   BASIL {cell('basil')}   all {cell('all')}", flush=True)


if __name__ == "__main__":
    table(ALL, "full dev")
    for h in (0, 1):
        table([r for r in ALL if half(r) == h], f"half {h} only ({'even' if h == 0 else 'odd'} ECB+ topics, BASIL hash half)", SEEDS[:6])
    print("\n== rebuild (idf of the whole corpus from the start), bench order")
    for name in ("current + numbers", "recluster + numbers (RECOMMENDED)"):
        res, s, dt = one(bench_order(), METHODS[name], prefill=True)
        print(f"{name:38s} {fmt(res)}")
    res, s, dt = one(bench_order(), METHODS["recluster + numbers (RECOMMENDED)"])
    print(f"\ncost: {dt*1000:.1f} ms/article (pure Python), largest union {s.max_union} articles,"
          f" articles relabelled in total {s.moved} (max {s.max_moved} in one step) over {len(ALL)} arrivals")
