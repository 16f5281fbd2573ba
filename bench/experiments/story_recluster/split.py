"""Split helpers: 2-way split of a story's members and its separation score."""
import math
from collections import Counter
from lib import st


def local_vectors(vecs, mode="local", floor=0.0):
    """Reweight stored (normalised) vectors by a within-group idf."""
    n = len(vecs)
    if mode == "none":
        return vecs
    df = Counter(t for v in vecs for t in v)
    out = []
    for v in vecs:
        w = {}
        for t, x in v.items():
            if mode == "local":
                f = math.log((n + 1) / (df[t] + 0.5))
            elif mode == "local1":
                f = math.log((n + 1) / df[t])
            else:
                raise ValueError(mode)
            f = max(f, floor)
            if f > 0:
                w[t] = x * f
        norm = math.sqrt(sum(y * y for y in w.values())) or 1.0
        out.append({t: y / norm for t, y in w.items()})
    return out


def simmat(vecs):
    n = len(vecs)
    S = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            S[i][j] = S[j][i] = st.cosine(vecs[i], vecs[j])
    return S


def avg_link_bisect(S):
    """Average-linkage HAC until 2 clusters remain. Returns (A, B) index lists."""
    n = len(S)
    cl = [[i] for i in range(n)]
    # cluster-level sums
    while len(cl) > 2:
        best, bi, bj = -1e9, 0, 1
        for i in range(len(cl)):
            for j in range(i + 1, len(cl)):
                s = sum(S[a][b] for a in cl[i] for b in cl[j]) / (len(cl[i]) * len(cl[j]))
                if s > best:
                    best, bi, bj = s, i, j
        cl[bi] = cl[bi] + cl[bj]
        del cl[bj]
    return cl[0], cl[1]


def avg(S, A, B):
    if A is B:
        pairs = [(a, b) for i, a in enumerate(A) for b in A[i + 1:]]
    else:
        pairs = [(a, b) for a in A for b in B]
    return sum(S[a][b] for a, b in pairs) / len(pairs) if pairs else None


def separation(S, A, B):
    """(between, within_A, within_B)"""
    return avg(S, A, B), avg(S, A, A), avg(S, B, B)


def hac_dendro_split(S, min_size=2):
    """Average-linkage HAC to the end; the last merge joining two clusters both of
    size >= min_size gives the split (outliers attached later are put with
    their nearer side). Returns (A, B) or None."""
    n = len(S)
    cl = {i: [i] for i in range(n)}
    merges = []
    while len(cl) > 1:
        keys = list(cl)
        best, bi, bj = -1e9, None, None
        for x in range(len(keys)):
            for y in range(x + 1, len(keys)):
                i, j = keys[x], keys[y]
                s = sum(S[a][b] for a in cl[i] for b in cl[j]) / (len(cl[i]) * len(cl[j]))
                if s > best:
                    best, bi, bj = s, i, j
        merges.append((best, list(cl[bi]), list(cl[bj])))
        cl[bi] = cl[bi] + cl.pop(bj)
    # walk merges from the top; find the highest-level merge with both sides big
    for s, A, B in reversed(merges):
        if len(A) >= min_size and len(B) >= min_size:
            rest = [i for i in range(n) if i not in A and i not in B]
            A, B = list(A), list(B)
            for i in rest:
                sa = sum(S[i][a] for a in A) / len(A)
                sb = sum(S[i][b] for b in B) / len(B)
                (A if sa >= sb else B).append(i)
            return A, B
    return None


def fiedler_split(S, knn=None):
    """Normalized-cut bisection via the second eigenvector of D^-1/2 W D^-1/2."""
    n = len(S)
    W = [[max(S[i][j], 0.0) if i != j else 0.0 for j in range(n)] for i in range(n)]
    if knn:
        keep = [[False] * n for _ in range(n)]
        for i in range(n):
            order = sorted(range(n), key=lambda j: -W[i][j])
            for j in order[:knn]:
                if j != i:
                    keep[i][j] = keep[j][i] = True
        W = [[W[i][j] if keep[i][j] else 0.0 for j in range(n)] for i in range(n)]
    d = [sum(r) or 1e-9 for r in W]
    sq = [math.sqrt(x) for x in d]
    M = [[W[i][j] / (sq[i] * sq[j]) for j in range(n)] for i in range(n)]
    top = [x / math.sqrt(sum(d)) for x in sq]  # leading eigvec (eigval 1)
    # power iteration on (M + I) deflated by top
    v = [((i * 7919) % 13) - 6.0 for i in range(n)]
    for _ in range(200):
        dot = sum(a * b for a, b in zip(v, top))
        v = [a - dot * b for a, b in zip(v, top)]
        w = [sum(M[i][j] * v[j] for j in range(n)) + v[i] for i in range(n)]
        norm = math.sqrt(sum(x * x for x in w)) or 1.0
        v = [x / norm for x in w]
    f = [v[i] / sq[i] for i in range(n)]
    # best sweep cut by normalized cut
    order = sorted(range(n), key=lambda i: f[i])
    vol = sum(d)
    best, cut = None, None
    for k in range(1, n):
        A = order[:k]
        setA = set(A)
        c = sum(W[i][j] for i in A for j in range(n) if j not in setA)
        va = sum(d[i] for i in A)
        ncut = c / va + c / (vol - va)
        if best is None or ncut < best:
            best, cut = ncut, k
    return order[:cut], order[cut:]


def nn_cross(S, A, B):
    """Fraction of members whose nearest other member lies on the other side."""
    side = {i: 0 for i in A}
    side.update({i: 1 for i in B})
    n = len(S)
    cross = 0
    for i in range(n):
        j = max((j for j in range(n) if j != i), key=lambda j: S[i][j])
        cross += side[i] != side[j]
    return cross / n


def knn_components(S, k):
    """Connected components of the symmetric k-nearest-neighbour graph."""
    n = len(S)
    parent = list(range(n))

    def f(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x
    for i in range(n):
        nb = sorted((j for j in range(n) if j != i), key=lambda j: (-S[i][j], j))[:k]
        for j in nb:
            parent[f(i)] = f(j)
    comp = {}
    for i in range(n):
        comp.setdefault(f(i), []).append(i)
    return sorted(comp.values(), key=len, reverse=True)


def knn_cross_frac(S, A, B, k):
    side = {i: 0 for i in A}
    side.update({i: 1 for i in B})
    n = len(S)
    cross = tot = 0
    for i in range(n):
        nb = sorted((j for j in range(n) if j != i), key=lambda j: (-S[i][j], j))[:k]
        for j in nb:
            tot += 1
            cross += side[i] != side[j]
    return cross / tot if tot else 0.0


def fiedler_fast(S, knn=3, iters=200):
    """Same as fiedler_split(S, knn) with sparse kNN adjacency (faster)."""
    n = len(S)
    adj = [dict() for _ in range(n)]
    for i in range(n):
        order = sorted((j for j in range(n) if j != i), key=lambda j: -max(S[i][j], 0.0))
        for j in order[:knn]:
            w = max(S[i][j], 0.0)
            adj[i][j] = w
            adj[j][i] = w
    d = [sum(a.values()) or 1e-9 for a in adj]
    sq = [math.sqrt(x) for x in d]
    nb = [[(j, w / (sq[i] * sq[j])) for j, w in adj[i].items()] for i in range(n)]
    top = [x / math.sqrt(sum(d)) for x in sq]
    v = [((i * 7919) % 13) - 6.0 for i in range(n)]
    for _ in range(iters):
        dot = sum(a * b for a, b in zip(v, top))
        v = [a - dot * b for a, b in zip(v, top)]
        w = [sum(m * v[j] for j, m in nb[i]) + v[i] for i in range(n)]
        norm = math.sqrt(sum(x * x for x in w)) or 1.0
        v = [x / norm for x in w]
    f = [v[i] / sq[i] for i in range(n)]
    order = sorted(range(n), key=lambda i: f[i])
    vol = sum(d)
    inA = [False] * n
    cut = 0.0
    va = 0.0
    best, bk = None, None
    for k in range(n - 1):
        i = order[k]
        # move i into A: edges to A stop being cut, edges to B become cut
        for j, w in adj[i].items():
            cut += -w if inA[j] else w
        inA[i] = True
        va += d[i]
        ncut = cut / va + cut / (vol - va)
        if best is None or ncut < best - 1e-12:
            best, bk = ncut, k + 1
    return order[:bk], order[bk:]
