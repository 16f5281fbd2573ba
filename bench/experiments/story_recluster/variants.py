"""Full dev, bench order + 10 shuffled orders, several variants."""
import sys
from lib import *
import sim, recluster
from grid_halves import tfs_for
SEEDS = ["bench"] + list(range(10))
def run(name, thr, kw, numbers=True, xmax=0.0):
    recluster.XMAX[0] = xmax
    outs = []
    for seed in SEEDS:
        recs = bench_order() if seed == "bench" else shuffled(seed)
        after = recluster.make_after(thr=thr, **kw) if kw is not None else None
        pred, s = sim.run(recs, tfs_for(recs, numbers), sim.baseline(thr), after=after)
        outs.append(bcubed_by_corpus(recs, pred))
    b = outs[0]; sh = outs[1:]
    cell = lambda c: f"{b[c][2]:.3f} {statistics.mean(o[c][2] for o in sh):.3f} {min(o[c][2] for o in sh):.3f}"
    print(f"{name:34s} | ecb {cell('ecbplus')} | basil {cell('basil')} | all {cell('all')} | ecbP {statistics.mean(o['ecbplus'][0] for o in sh):.3f} R {statistics.mean(o['ecbplus'][1] for o in sh):.3f}", flush=True)
if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "all"
    print("columns: bench-order, mean over 10 shuffles, min over 10 shuffles")
    run("baseline plain terms .17", 0.17, None, numbers=False)
    run("baseline +numbers .17", 0.17, None)
    run("recluster plain terms", 0.17, dict(), numbers=False)
    run("recluster +numbers (default)", 0.17, dict())
    run("recluster +numbers stored vecs", 0.17, dict(reweigh=False))
    run("recluster no ratio test", 0.17, dict(ratio=10))
    run("recluster k3 x<=.05", 0.17, dict(k=3), xmax=0.05)
    run("recluster k2 x<=.05", 0.17, dict(k=2), xmax=0.05)
    run("recluster split only (no merge)", 0.17, dict(merge=False))
    run("recluster max_stories 3", 0.17, dict(max_stories=3))
    run("recluster min_size 2", 0.17, dict(min_size=2))
    run("recluster thr .15", 0.15, dict())
    run("recluster thr .19", 0.19, dict())
