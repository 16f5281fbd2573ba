"""Features of a candidate split (A, B) of a member list."""
import math
from collections import Counter
import split
from lib import st


def restrict(vecs, pred):
    out = []
    for v in vecs:
        w = {t: x for t, x in v.items() if pred(t)}
        norm = math.sqrt(sum(x * x for x in w.values())) or 1.0
        out.append({t: x / norm for t, x in w.items()})
    return out


def is_name(t):
    return t.startswith("n:")


def is_namenum(t):
    return t.startswith("n:") or t.startswith("#")


def ratio(S, A, B):
    bt, wa, wb = split.separation(S, A, B)
    wa = wa if wa is not None else wb
    wb = wb if wb is not None else wa
    w = (wa + wb) / 2
    return bt / w if w > 0 else 1.0


def contrast(vecs, A, B, pred=lambda t: True, hi=0.5, lo=0.2):
    """Number of terms (pred) in >= hi of one side and <= lo of the other, per side."""
    ca = Counter(t for i in A for t in vecs[i] if pred(t))
    cb = Counter(t for i in B for t in vecs[i] if pred(t))
    na, nb = len(A), len(B)
    da = sum(1 for t, c in ca.items() if c / na >= hi and cb.get(t, 0) / nb <= lo)
    db = sum(1 for t, c in cb.items() if c / nb >= hi and ca.get(t, 0) / na <= lo)
    return da, db

