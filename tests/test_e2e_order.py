"""End to end (issue #23): the same pages make the same corpus whatever order
they arrive in, with the default settings (cleaning workers on).

The fixtures' pages plus a generated set (chains of containment: a short text
contained in three longer ones that are no copies of each other; exact
copies; stories of several articles, ties of publication times, an undated
page) are crawled by ``scrapy crawl files`` three times, their file names
permuted so the spider reads them in other orders, with ``CLEAN_WORKERS=2``
and the default concurrency. The ``articles`` (url, text), the ``duplicates``
(url -> kept url, kind) and the story partitions must be identical.
"""

from __future__ import annotations

import gzip
import random
import re
from pathlib import Path

import pytest

from tests.helpers import FIXTURES, scrapy_crawl

pytestmark = pytest.mark.e2e

VOCAB = (
    "harbour council budget river bridge station tram school hospital market flood storm"
    " election ballot mayor minister union strike port wind turbine auction farmer orchard"
    " survey library archive museum festival court judge ruling appeal tenant rent housing"
    " railway signal delay commuter cyclist lane parking fee tax levy grant charity donor"
    " volunteer rescue crew lifeboat coast cliff erosion village county district ward"
    " councillor resident petition protest march police inquiry report audit contract"
    " builder crane tower permit planning objection hearing vote motion amendment"
).split()


def _sentences(rng: random.Random, n: int, extra: list[str] = ()) -> str:  # type: ignore[assignment]
    vocab = VOCAB + list(extra)
    out = []
    for _ in range(n):
        words = [rng.choice(vocab) for _ in range(rng.randint(9, 16))]
        out.append(" ".join(words).capitalize() + ".")
    return " ".join(out)


def _page(url: str, title: str, paragraphs: list[str], published: str | None) -> str:
    meta = f'<meta property="article:published_time" content="{published}">' if published else ""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f'<link rel="canonical" href="{url}">{meta}'
        '<meta property="og:site_name" content="Order Gazette"></head>'
        f"<body><article><h1>{title}</h1>{body}</article></body></html>"
    )


def generated() -> dict[str, str]:
    """file name -> page."""
    rng = random.Random(23)
    pages: dict[str, str] = {}
    day = "2025-05-0{}T{:02d}:00:00+00:00"
    for chain in range(3):
        names = [f"Chainname{chain}x{k}" for k in range(6)]
        short = _sentences(rng, 5, names)
        # B (short) is contained in A, C and D, which are no copies of each other
        dates = [day.format(chain + 1, 12), day.format(chain + 1, 10), day.format(chain + 1, 10)]
        dates.append(None if chain == 1 else day.format(chain + 1, 9))
        for k, (letter, published) in enumerate(zip("bacd", dates, strict=True)):
            if letter == "b":
                paras = [short]
            else:
                own = [_sentences(rng, 5, names) for _ in range(4)]
                paras = own[:k] + [short] + own[k:]
            url = f"https://order.example/chain{chain}-{letter}"
            pages[f"chain{chain}-{letter}.html"] = _page(
                url, f"Chain {chain} {letter}", paras, published
            )
    for story in range(4):
        names = [f"Storyname{story}x{k}" for k in range(8)]
        for k in range(4):
            paras = [_sentences(rng, 4, names * 3) for _ in range(4)]
            published = day.format(story % 3 + 1, 8 + k % 2)  # (ties)
            url = f"https://order.example/story{story}-{k}"
            pages[f"story{story}-{k}.html"] = _page(url, f"Story {story} {k}", paras, published)
            if k == 0:  # an exact copy (other case and punctuation) at another address
                copy = [p.upper().replace(".", "!") for p in paras]
                pages[f"story{story}-copy.html"] = _page(
                    f"https://order.example/story{story}-copy", f"Story {story}", copy, published
                )
    return pages


def fixtures() -> dict[str, str]:
    """The fixtures' pages, each with a canonical URL (a file's own URL changes with
    its name, and the canonical URL is what stays)."""
    out = {}
    for path in sorted((FIXTURES / "pages").iterdir()):
        if path.suffix == ".json":
            continue
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        html = raw.decode("utf-8")
        name = path.name.removesuffix(".gz")
        if 'rel="canonical"' not in html:
            link = f'<link rel="canonical" href="https://fixtures.example/{name}">'
            html = re.sub(r"(<head[^>]*>)", r"\1" + link, html, count=1, flags=re.I)
        out[name] = html
    return out


def crawl(tmp_path: Path, run: int, pages: dict[str, str]) -> tuple:
    folder = tmp_path / f"pages{run}"
    folder.mkdir()
    names = sorted(pages)
    random.Random(run).shuffle(names)
    for n, name in enumerate(names):
        (folder / f"{n:03d}-{name}").write_text(pages[name], encoding="utf-8")
    result = scrapy_crawl(
        "files", tmp_path / f"corpus{run}.db", path=str(folder), settings={"CLEAN_WORKERS": 2}
    )
    assert result.returncode == 0, result.stderr[-3000:]

    def name(url: str) -> str:  # a file's own URL, without the run's prefix
        return re.sub(r"^file://.*/\d{3}-", "file:///", url)

    articles = sorted((name(r["url"]), r["text"]) for r in result.rows("select * from articles"))
    duplicates = sorted(
        (name(r["url"]), name(r["kept"]), r["kind"])
        for r in result.rows(
            "select d.url, a.url kept, d.kind from duplicates d"
            " join articles a on a.id = d.article_id"
        )
    )
    stories: dict[int, list[str]] = {}
    for r in result.rows("select url, story_id from articles"):
        stories.setdefault(r["story_id"], []).append(name(r["url"]))
    partition = sorted(sorted(m) for m in stories.values())
    return articles, duplicates, partition


def test_the_same_pages_make_the_same_corpus_in_any_order(tmp_path: Path) -> None:
    pages = fixtures() | generated()
    runs = [crawl(tmp_path, run, pages) for run in range(3)]
    articles, duplicates, partition = runs[0]
    for other in runs[1:]:
        assert other[0] == articles
        assert other[1] == duplicates
        assert other[2] == partition
    kept = {u for u, _ in articles}
    near = {(u, k) for u, k, kind in duplicates if kind in ("near", "exact")}
    for chain, kept_letter in ((0, "d"), (1, "a"), (2, "d")):
        # B is a copy of the earliest published of A, C and D (the URL on ties);
        # those are no copies of each other, and stay
        base = f"https://order.example/chain{chain}-"
        assert {base + x for x in "acd"} <= kept
        assert (base + "b", base + kept_letter) in near
    for story in range(4):
        base = f"https://order.example/story{story}-"
        assert (base + "copy", base + "0") in near
    assert len(partition) < len(articles)  # (stories group articles)
