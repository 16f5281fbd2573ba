"""Local re-clustering after each arrival: the union of the new article's story and
its other related candidate stories is re-partitioned by recursive bisection."""
import split, feat, sim as simmod
from lib import st


XMAX = [0.0]


def bisect_ok(S, A, B, k, ratio, min_size):
    if min(len(A), len(B)) < min_size:
        return False
    kk = min(k, min(len(A), len(B)) - 1)
    if split.knn_cross_frac(S, A, B, kk) > XMAX[0]:
        return False
    return feat.ratio(S, A, B) < ratio


def partition(S, idx, k, ratio, min_size):
    if len(idx) < 2 * min_size:
        return [idx]
    sub = [[S[a][b] for b in idx] for a in idx]
    A, B = split.fiedler_fast(sub, 3)
    if not bisect_ok(sub, A, B, k, ratio, min_size):
        return [idx]
    return (partition(S, [idx[i] for i in A], k, ratio, min_size)
            + partition(S, [idx[i] for i in B], k, ratio, min_size))


def make_after(k=2, ratio=0.7, min_size=3, max_members=30, max_stories=2, thr=0.17,
               reweigh=True, merge=True, link_thr=None, local=None):
    def vec(sim, a):
        if reweigh:
            return dict(st.ranked(st.weigh(sim.arts[a].tf, sim.stats))[:400])
        return sim.arts[a].vec

    def after(sim, story, aid):
        ctx = sim.last_ctx
        # related stories: the article's own + other candidate stories it is similar to
        best = {}
        for c in ctx.cands:
            s = st.cosine(ctx.vec, c.vec)
            if s >= thr and c.story != story:
                best[sim.arts[c.aid].story] = max(best.get(sim.arts[c.aid].story, 0), s)
        others = [s for s, _ in sorted(best.items(), key=lambda kv: -kv[1])][:max_stories - 1] if merge else []
        stories = [sim.arts[aid].story] + [s for s in others if s != sim.arts[aid].story]
        mem = []
        for s in stories:
            mem += sim.story_members[s][-max_members:]
        if len(mem) < 2 * min_size and len(stories) == 1:
            return
        sim.max_union = max(getattr(sim, 'max_union', 0), len(mem))
        vecs = [vec(sim, a) for a in mem]
        if local:
            vecs = split.local_vectors(vecs, local)
        S = split.simmat(vecs)
        if link_thr is not None:
            # components at link_thr first (single link)
            n = len(mem)
            parent = list(range(n))
            def f(x):
                while parent[x] != x:
                    parent[x] = parent[parent[x]]; x = parent[x]
                return x
            for i in range(n):
                for j in range(i + 1, n):
                    if S[i][j] >= link_thr:
                        parent[f(i)] = f(j)
            comps = {}
            for i in range(n): comps.setdefault(f(i), []).append(i)
            comps = list(comps.values())
        else:
            comps = [list(range(len(mem)))]
        groups = []
        for c in comps:
            groups += partition(S, c, k, ratio, min_size)
        if len(stories) == 1 and len(groups) == 1:
            return
        n_moved = simmod.relabel(sim, [[mem[i] for i in g] for g in groups])
        sim.moved = getattr(sim, 'moved', 0) + n_moved
        sim.max_moved = max(getattr(sim, 'max_moved', 0), n_moved)
    return after
