"""Shared helpers for the stories3 experiments (research only)."""
from __future__ import annotations

import hashlib
import json
import math
import random
import re
import statistics
import sys
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

# The repository root and the shared bench beside it (../shared), as the other
# bench scripts find them.
ROOT = Path(__file__).resolve().parents[3]
BENCH = ROOT.parent / "shared" / "bench" / "stories"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))
import score as scorer  # noqa: E402
from crawler import stories as st  # noqa: E402



def load():
    return [json.loads(l) for c in ("ecbplus", "basil")
            for l in (BENCH / "dev" / f"{c}.jsonl").read_text().splitlines() if l.strip()]


ALL = load()


def bench_order(recs=ALL):
    return sorted(recs, key=lambda r: hashlib.sha1(r["id"].encode()).hexdigest())


def shuffled(seed, recs=ALL):
    recs = list(recs)
    random.Random(seed).shuffle(recs)
    return recs


def topic_no(r):
    if r["corpus"] == "ecbplus":
        return int(r["topic"].split("/")[1])
    # basil story id
    return int(hashlib.sha1(r["story"].encode()).hexdigest(), 16)


def half(r):
    """0/1: odd/even ECB+ topic number; BASIL stories split by a hash of the story id."""
    return topic_no(r) % 2


_NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,:]\d+)*(?!\w)")


def terms_numbers(title, text, weight=2.0):
    out = st.terms(title, text)
    for part in (text, title or ""):
        part = unicodedata.normalize("NFKC", part)
        for m in _NUMBER.finditer(part):
            out["#" + m.group(0).replace(",", "")] += weight
    return out


def day(r):
    return st.day_of(r.get("published"))


def bcubed_by_corpus(recs, pred):
    """pred: list parallel to recs of predicted story labels."""
    out = {}
    for corpus in ("ecbplus", "basil", "all"):
        idx = [n for n, r in enumerate(recs) if corpus == "all" or r["corpus"] == corpus]
        if not idx:
            continue
        out[corpus] = scorer.bcubed([recs[n]["story"] for n in idx], [pred[n] for n in idx])
    return out


def fmt(res):
    return "  ".join(f"{c} {p:.3f}/{r:.3f}/{f:.3f}" for c, (p, r, f) in res.items())


def fmt_f(res):
    return " ".join(f"{res[c][2]:.3f}" for c in ("ecbplus", "basil", "all") if c in res)
