"""Duplicate groups, decided whatever the order the pages came in.

Pure: no Scrapy, no SQLite. The online decision (:mod:`crawler.dedup.decision`)
compares an incoming page with the articles kept *so far*, so its answer
depends on the arrival order: copying is not transitive (a short text B
contained in A, C and D is a copy of each, while A, C and D are no copies of
each other), and the run that keeps B first makes A, C and D its copies where
the run that keeps A first keeps C and D apart. At the end of a crawl,
:mod:`crawler.storage.settle` decides again, here, what the crawl touched,
from the copy relation alone (exact: the same content hash; near:
:func:`crawler.dedup.near.near_duplicate`):

* :func:`groups`: the sets of connected copies (a page that is a copy of any
  member belongs to the set): the scope of the decision, whatever the order
  the links were found in;
* :func:`kept_and_copies`: within a set, in the canonical order
  (:func:`canonical_key`: the earliest published first, undated pages after
  dated ones, the canonical URL on ties), each page is a duplicate of the
  closest article kept before it that it is a copy of, or is kept itself. The
  kept article of a group is thus its earliest published, and every
  duplicate is a copy of its kept article: a short B contained in A, C and D
  that are no copies of each other gives, in every order, B's group with the
  earliest of them and the others kept (not one group of four, which would
  drop the texts of articles that copy nothing of each other but B).

Both depend on the set of pages only, not on their order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from crawler.dedup import near as neardup
from crawler.dedup.decision import _when


def canonical_key(published: str | None, url: str) -> tuple[int, datetime | str, str]:
    """The order in which a group's members are candidates to be kept (and in
    which a crawl's articles are grouped into stories again): the earliest
    publication first, undated ones last, the URL on ties."""
    when = _when(published)
    if when is None:
        return (1, "", url)
    return (0, when, url)


class Links:
    """Union-find over URLs: the groups of a copy relation."""

    def __init__(self) -> None:
        self._parent: dict[str, str] = {}

    def _root(self, x: str) -> str:
        parent = self._parent
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def link(self, a: str, b: str) -> None:
        ra, rb = self._root(a), self._root(b)
        if ra != rb:
            # (the smaller URL is the root: nothing depends on the order of links)
            lo, hi = (ra, rb) if ra < rb else (rb, ra)
            self._parent[hi] = lo

    def groups(self) -> list[list[str]]:
        """The groups of two or more URLs, each sorted, by their first URL."""
        out: dict[str, list[str]] = {}
        for url in self._parent:
            out.setdefault(self._root(url), []).append(url)
        return sorted((sorted(g) for g in out.values() if len(g) > 1), key=lambda g: g[0])


def groups(links: Iterable[tuple[str, str]]) -> list[list[str]]:
    """The connected components (two or more URLs) of the pairs ``links``."""
    found = Links()
    for a, b in links:
        if a != b:
            found.link(a, b)
    return found.groups()


def kept_of(members: Iterable[tuple[str, str | None]]) -> str:
    """The URL a group of (url, published) keeps (:func:`canonical_key`)."""
    return min(members, key=lambda m: canonical_key(m[1], m[0]))[0]


@dataclass(frozen=True)
class Page:
    """A member of a set of connected copies, as :func:`kept_and_copies` sees it."""

    url: str
    published: str | None
    content_hash: str
    sketch: neardup.Sketch


def kept_and_copies(pages: Iterable[Page]) -> list[tuple[str, list[tuple[str, str, float]]]]:
    """The articles kept among ``pages`` (connected copies), each with its
    duplicates (url, ``exact`` or ``near``, similarity to the kept article), in
    the canonical order. ``exact``: the kept article's text, or that of
    another of its copies."""
    kept: list[tuple[Page, list[tuple[str, str, float]]]] = []
    hashes: list[set[str]] = []  # (the texts of each kept article's group)
    for page in sorted(pages, key=lambda p: canonical_key(p.published, p.url)):
        best: tuple[float, int] | None = None
        for n, (k, _) in enumerate(kept):
            sim = (
                1.0
                if k.content_hash == page.content_hash
                else neardup.near_duplicate(page.sketch, k.sketch)
            )
            if sim is not None and (best is None or sim > best[0]):
                best = (sim, n)
        if best is None:
            kept.append((page, []))
            hashes.append({page.content_hash})
        else:
            k, dups = kept[best[1]]
            # exact: the kept article's text, or a copy's of it (an exact copy
            # of a near copy is exact, as the writer records it)
            kind = "exact" if page.content_hash in hashes[best[1]] else "near"
            hashes[best[1]].add(page.content_hash)
            dups.append((page.url, kind, best[0]))

    return [(k.url, dups) for k, dups in kept]
