"""Seed pair check: similarity of the two seeds in a fresh corpus (as the crawler sees them)."""
import sqlite3
from lib import *
import sim, recluster
rows = sqlite3.connect("corpus.db").execute(  # a corpus made by make run (the two seeds)
    "select id, title, text, published from articles order by id").fetchall()
for name, tf_fn in (("plain terms", lambda t, x: st.terms(t, x)), ("terms+numbers", terms_numbers)):
    tfs = [dict(tf_fn(t, x)) for _, t, x, _ in rows]
    # fresh corpus, online: second seed compared with the first, idf from 2 docs
    stats = st.TermStats()
    stats.add(tfs[0]); stored = st.stored_terms(tfs[0], stats)
    stats.add(tfs[1]); v = st.weigh(tfs[1], stats)
    print(name, f"online sim {st.cosine(v, stored):.3f} vs THRESHOLD {st.THRESHOLD}")
    recs = [{"id": str(i), "story": "s", "corpus": "x", "published": p} for i, _, _, p in rows]
    pred, s = sim.run(recs, tfs, sim.baseline(0.17), after=recluster.make_after())
    print("  recluster sim: stories", pred)
# seeds fed together with the bench (after the bench, in bench order)
recs = bench_order() + [{"id": f"seed{i}", "story": "seed", "corpus": "seed", "published": p, "title": t, "text": x} for i, t, x, p in rows]
tfs = [dict(terms_numbers(r.get("title"), r["text"])) for r in recs]
pred, s = sim.run(recs, tfs, sim.baseline(0.17), after=recluster.make_after())
print("seeds after bench: stories", pred[-2:], fmt(bcubed_by_corpus(recs[:-2], pred[:-2])))
# seeds first, then bench
recs2 = recs[-2:] + recs[:-2]
tfs2 = tfs[-2:] + tfs[:-2]
pred, s = sim.run(recs2, tfs2, sim.baseline(0.17), after=recluster.make_after())
print("seeds before bench: stories", pred[:2], "final")
