"""The shared stories bench as both story benches read it (``bench/stories.py``,
``bench/comparable.py``): its records, the page each record is served or written
as, and the two halves of its topics.

Reads ``../shared/bench/stories`` at run time; nothing of it is copied into the repo.
"""

from __future__ import annotations

import hashlib
import html
import json
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_BENCH = REPO.parent / "shared" / "bench" / "stories"
CORPORA = ("ecbplus", "basil")


def read_jsonl(path: Path) -> list[dict]:
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def load_records(bench: Path, split: str = "dev") -> list[dict]:
    """Every record of the split, ECB+ first, then BASIL (the files' own order)."""
    return [r for c in CORPORA for r in read_jsonl(bench / split / f"{c}.jsonl")]


def found(bench: Path) -> bool:
    return (bench / "dev" / "ecbplus.jsonl").exists()


def canonical_of(rec: dict) -> str:
    """The record's URL, or a stable made-up one (``https://<corpus>.bench.invalid/<id>``)."""
    return rec.get("url") or f"https://{rec['corpus']}.bench.invalid/{rec['id'].split('/', 1)[1]}"


def page(rec: dict, url: str | None = None) -> str:
    """The record as an article page: ``<title>``, ``<h1>``, the text's paragraphs as
    ``<p>``, ``article:published_time`` and ``og:site_name`` when the record has them,
    and ``<link rel="canonical">`` (``url``, by default :func:`canonical_of`)."""
    head = [f'<link rel="canonical" href="{html.escape(url or canonical_of(rec))}">']
    if rec.get("title"):
        head.append(f"<title>{html.escape(rec['title'])}</title>")
    if rec.get("published"):
        head.append(f'<meta property="article:published_time" content="{rec["published"]}">')
    if rec.get("source"):
        head.append(f'<meta property="og:site_name" content="{html.escape(rec["source"])}">')
    body = [f"<h1>{html.escape(rec['title'])}</h1>"] if rec.get("title") else []
    body += [f"<p>{html.escape(p.strip())}</p>" for p in rec["text"].split("\n") if p.strip()]
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        + "".join(head)
        + "</head><body><article>"
        + "\n".join(body)
        + "</article></body></html>\n"
    )


def half_of(rec: dict) -> str:
    """``odd`` or ``even``: the half of the topics a record belongs to (ECB+ by topic
    number, so that both events of a topic fall in one half; BASIL by a hash of its
    story). Tune on one half, report the other."""
    if rec.get("topic"):
        digits = "".join(ch for ch in rec["topic"].split("/")[-1] if ch.isdigit())
        return "odd" if int(digits or 0) % 2 else "even"
    return "odd" if int(hashlib.sha1(rec["story"].encode()).hexdigest(), 16) % 2 else "even"
