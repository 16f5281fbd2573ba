"""Tune on one half (ECB+ odd/even topic, BASIL by story hash), report on the other."""
import sys, json, itertools
from lib import *
import sim, recluster
TF = {}
def tfs_for(recs, numbers=True):
    key = "n" if numbers else "p"
    return [TF.setdefault((key, r["id"]), dict(terms_numbers(r.get("title"), r["text"]) if numbers else st.terms(r.get("title"), r["text"]))) for r in recs]
def run_orders(recs_all, thr, kw, seeds, numbers=True):
    outs = []
    for seed in seeds:
        recs = bench_order(recs_all) if seed == "bench" else shuffled(seed, recs_all)
        after = recluster.make_after(thr=thr, **kw) if kw is not None else None
        pred, s = sim.run(recs, tfs_for(recs, numbers), sim.baseline(thr), after=after)
        outs.append(bcubed_by_corpus(recs, pred))
    return outs
def summary(outs):
    return {c: (statistics.mean(o[c][2] for o in outs), min(o[c][2] for o in outs)) for c in ("ecbplus", "basil", "all")}
if __name__ == "__main__":
    seeds = ["bench", 0, 1, 2, 3]
    halves = {h: [r for r in ALL if half(r) == h] for h in (0, 1)}
    print({h: (sum(r["corpus"] == "ecbplus" for r in v), sum(r["corpus"] == "basil" for r in v)) for h, v in halves.items()})
    results = {}
    grid = list(itertools.product((0.15, 0.17, 0.19), (0.6, 0.7, 0.8), (2, 3), (3,), (2, 3)))
    for h in (0, 1):
        base = summary(run_orders(halves[h], 0.17, None, seeds))
        print("half", h, "baseline", base, flush=True)
        for thr, ratio, k, ms, mx in grid:
            kw = dict(ratio=ratio, k=k, min_size=ms, max_stories=mx)
            sm = summary(run_orders(halves[h], thr, kw, seeds))
            results[(h, thr, ratio, k, ms, mx)] = sm
            print("half", h, thr, kw, {c: f"{v[0]:.3f}/{v[1]:.3f}" for c, v in sm.items()}, flush=True)
    for h in (0, 1):
        best = max((key for key in results if key[0] == h), key=lambda key: results[key]["all"][0])
        other = (1 - h,) + best[1:]
        print(f"tuned on half {h}: {best[1:]} -> tune-half all {results[best]['all'][0]:.3f}; held-out half {1-h}:",
              {c: f"mean {v[0]:.3f} min {v[1]:.3f}" for c, v in results[other].items()})
        ref = (1 - h, 0.17, 0.7, 2, 3, 2)
        print(f"   default (0.17, 0.7, 2, 3, 2) on half {1-h}:", {c: f"mean {v[0]:.3f} min {v[1]:.3f}" for c, v in results[ref].items()})
