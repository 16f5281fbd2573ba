"""Re-partitioning: stories split and merge as they grow, and the offline regroup.

Pure: no Scrapy, no SQLite (:class:`crawler.storage.storyindex.StoryIndex` reads the
members and moves the articles).

A single pass decides on each article once, with what it knew then; an early
article that bridged two events, or two stories that turn out to be one,
would stay wrong forever. So after an article joins a story, that story and
its neighbour (the other story the article is also similar enough to) are
re-partitioned: the newest RECLUSTER_MEMBERS members of each, compared with
each other, cut in two by a normalised cut on their nearest-neighbour graph,
recursively, as long as each cut separates clearly. The groups then take
over the stories most of their members had (merging the two stories when
they are one group). The cost is bounded by the member caps, whatever the
size of the corpus or of the story.

The same decisions replayed over a whole corpus, with the idf of all of it, are
:func:`regroup` (``scrapy stories rebuild``, the settle at the end of a crawl, and
a new corpus once it is past its cold start); it ends with :func:`split_pass`,
each story re-partitioned once more with the final statistics.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from operator import mul, sub

from crawler.stories.grouping import (
    MAX_CANDIDATES,
    POSTING_LIMIT,
    THRESHOLD,
    Candidate,
    TermStats,
    choose_story,
    cosine,
    event_days,
    key_and_stored_terms,
    same_time,
    weigh,
)

#: the newest members of the article's story and of its neighbour that are re-partitioned
RECLUSTER_MEMBERS = 30
#: a cut is kept only when each side has at least SPLIT_MIN articles, ...
SPLIT_MIN = 3
#: ... no article's SPLIT_NEIGHBOURS most similar articles lie across the cut, ...
SPLIT_NEIGHBOURS = 2
#: ... and the mean similarity across the cut is under SPLIT_RATIO x that within the sides
SPLIT_RATIO = 0.7
#: the graph the cut is made on links each article to its GRAPH_NEIGHBOURS most similar ones
GRAPH_NEIGHBOURS = 3
#: the newest members of a story that :func:`split_pass` re-partitions at the end of a regroup
FINAL_MEMBERS = 60
#: :func:`days_differ`: the sides of a cut name different event days when the
#: pairs across it name the same first weekday less than DAY_RATIO times as
#: often as the pairs within them, ...
DAY_RATIO = 0.3
#: ... counted over at least DAY_PAIRS pairs across the cut that both name one
DAY_PAIRS = 6
#: power-iteration steps for the graph's second eigenvector, at most (it stops
#: earlier once no coordinate moves by FIEDLER_TOLERANCE)
FIEDLER_STEPS = 200
FIEDLER_TOLERANCE = 1e-9


class PairCache:
    """Similarities of stored article pairs. An article's stored weights change
    only when it is re-indexed (new text, a rebuild), and whoever does that
    calls :meth:`forget` or :meth:`clear`. Bounded (50,000 pairs take about
    10 MB of the writer's memory): emptied when full, which changes the cost of
    what follows, never its result."""

    def __init__(self, limit: int = 50_000) -> None:
        self.limit = limit
        self.pairs: dict[tuple[int, int], float] = {}

    def forget(self, article_id: int) -> None:
        """Drop the pairs of an article whose weights change (or that is deleted:
        SQLite may give its id to the next article)."""
        for key in [k for k in self.pairs if article_id in k]:
            del self.pairs[key]

    def clear(self) -> None:
        self.pairs.clear()

    def matrix(self, ids: list[int], vecs: list[dict[str, float]]) -> list[list[float]]:
        """The cosine similarity matrix of articles ``ids`` with stored weights ``vecs``."""
        n = len(ids)
        if len(self.pairs) + n * n > self.limit:
            self.pairs.clear()
        pairs = self.pairs
        S = [[0.0] * n for _ in range(n)]
        for i in range(n):
            a, row, va = ids[i], S[i], vecs[i]
            for j in range(i + 1, n):
                b = ids[j]
                key = (a, b) if a < b else (b, a)
                sim = pairs.get(key)
                if sim is None:
                    sim = pairs[key] = cosine(va, vecs[j])
                row[j] = S[j][i] = sim
        return S


def _nearest(row: list[float], i: int, k: int) -> list[int]:
    """The ``k`` indices other than ``i`` with the highest values in ``row`` (lowest index on ties)."""
    return sorted((j for j in range(len(row)) if j != i), key=lambda j: (-row[j], j))[:k]


def ncut_bisect(S: list[list[float]]) -> tuple[list[int], list[int]]:
    """Cut articles with similarity matrix ``S`` in two by normalised cut.

    The graph links each article to its :data:`GRAPH_NEIGHBOURS` most similar
    ones (both ways); the second eigenvector of its normalised adjacency
    (power iteration from a fixed start, the first eigenvector deflated) orders
    the articles, and the sweep cut with the lowest normalised cut is taken.
    Pure float arithmetic in a fixed order: the same cut on every machine.
    """
    n = len(S)
    adj: list[dict[int, float]] = [{} for _ in range(n)]
    for i in range(n):
        row = [max(x, 0.0) for x in S[i]]
        for j in _nearest(row, i, GRAPH_NEIGHBOURS):
            adj[i][j] = adj[j][i] = row[j]
    d = [sum(a.values()) or 1e-9 for a in adj]
    sq = [math.sqrt(x) for x in d]
    # the normalised adjacency, row by row: neighbours and weights
    nbrs = [sorted(adj[i]) for i in range(n)]
    wts = [[adj[i][j] / (sq[i] * sq[j]) for j in nbrs[i]] for i in range(n)]
    vol = sum(d)
    top = [x / math.sqrt(vol) for x in sq]  # the first eigenvector (eigenvalue 1)
    v = [((i * 7919) % 13) - 6.0 for i in range(n)]
    for _ in range(FIEDLER_STEPS):
        dot = sum(map(mul, v, top))
        v = [a - dot * b for a, b in zip(v, top, strict=False)]
        w = [v[i] + sum(map(mul, wts[i], map(v.__getitem__, nbrs[i]))) for i in range(n)]
        norm = math.sqrt(sum(map(mul, w, w))) or 1.0
        w = [x / norm for x in w]
        if max(map(abs, map(sub, w, v))) < FIEDLER_TOLERANCE:
            v = w
            break
        v = w
    order = sorted(range(n), key=lambda i: v[i] / sq[i])
    in_a = [False] * n
    cut = vol_a = 0.0
    best, size = math.inf, 1
    for k in range(n - 1):
        i = order[k]
        for j, weight in adj[i].items():  # i joins A: its links to A stop being cut
            cut += -weight if in_a[j] else weight
        in_a[i] = True
        vol_a += d[i]
        ncut = cut / vol_a + cut / (vol - vol_a)
        if ncut < best - 1e-12:
            best, size = ncut, k + 1
    return order[:size], order[size:]


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def days_differ(A: list[int], B: list[int], days: list[str | None]) -> bool:
    """Do the two sides of a cut tell of events on different days? ``days``: each
    article's first weekday, or its first day of a month
    (:func:`~crawler.stories.grouping.event_days`). The pairs across the cut that
    both name one agree less than :data:`DAY_RATIO` times as often as the pairs
    within the sides (at least :data:`DAY_PAIRS` pairs across). Two elections of one
    parliament: the same words, but the articles of one say "on Sunday" and those
    of the other name other days."""
    in_a = Counter(days[i] for i in A if days[i])
    in_b = Counter(days[i] for i in B if days[i])
    na, nb = in_a.total(), in_b.total()
    if na * nb < DAY_PAIRS:
        return False
    within_pairs = na * (na - 1) + nb * (nb - 1)
    if not within_pairs:
        return False
    across = sum(n * in_b[d] for d, n in in_a.items()) / (na * nb)
    within = (
        sum(n * (n - 1) for n in in_a.values()) + sum(n * (n - 1) for n in in_b.values())
    ) / within_pairs
    return across < DAY_RATIO * within


def cut_holds(
    S: list[list[float]],
    A: list[int],
    B: list[int],
    days: list[tuple[str | None, str | None]] | None = None,
) -> bool:
    """Does the cut (A, B) separate two stories clearly? (see :data:`SPLIT_MIN`,
    :data:`SPLIT_NEIGHBOURS`, :data:`SPLIT_RATIO`). With the articles'
    :func:`~crawler.stories.grouping.event_days` ``days``, sides that tell of
    different days (:func:`days_differ`, by weekday or by day of the month) need
    not keep every article's nearest neighbours on its side."""
    smaller = min(len(A), len(B))
    if smaller < SPLIT_MIN:
        return False
    between = _mean([S[a][b] for a in A for b in B])
    within = (
        _mean([S[a][b] for x, a in enumerate(A) for b in A[x + 1 :]])
        + _mean([S[a][b] for x, a in enumerate(B) for b in B[x + 1 :]])
    ) / 2
    if within <= 0 or between / within >= SPLIT_RATIO:
        return False
    if days is not None and any(days_differ(A, B, [d[u] for d in days]) for u in (0, 1)):
        return True
    in_a = set(A)
    k = min(SPLIT_NEIGHBOURS, smaller - 1)
    for i in range(len(S)):
        if any((j in in_a) != (i in in_a) for j in _nearest(S[i], i, k)):
            return False
    return True


def _may_split(S: list[list[float]]) -> bool:
    """Can any cut of ``S`` hold? (Cheap and exact: spares the eigenvector.)

    :func:`cut_holds` wants no article's :data:`SPLIT_NEIGHBOURS` nearest across
    the cut, so each side must be a union of connected components of the
    nearest-neighbour graph, and each side needs :data:`SPLIT_MIN` articles:
    impossible when one component leaves fewer outside it."""
    n = len(S)
    parent = list(range(n))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i in range(n):
        for j in _nearest(S[i], i, SPLIT_NEIGHBOURS):
            parent[root(i)] = root(j)
    sizes = Counter(root(i) for i in range(n))
    return max(sizes.values()) <= n - SPLIT_MIN


def _two_days(days: list[tuple[str | None, str | None]]) -> bool:
    """Do the articles name at least two different weekdays or days of a month?"""
    return any(len({d[u] for d in days} - {None}) > 1 for u in (0, 1))


def partition(
    S: list[list[float]], days: list[tuple[str | None, str | None]] | None = None
) -> list[list[int]]:
    """Groups of indices of ``S``: recursive :func:`ncut_bisect` while :func:`cut_holds`
    (``days``: the articles' :func:`~crawler.stories.grouping.event_days`, if the cut
    may read them)."""

    def split(idx: list[int]) -> list[list[int]]:
        if len(idx) < 2 * SPLIT_MIN:
            return [idx]
        part = [[S[a][b] for b in idx] for a in idx]
        sub = [days[i] for i in idx] if days is not None else None
        if not _may_split(part) and (sub is None or not _two_days(sub)):
            return [idx]
        A, B = ncut_bisect(part)
        if not cut_holds(part, A, B, sub):
            return [idx]
        return split(sorted(idx[i] for i in A)) + split(sorted(idx[i] for i in B))

    return split(list(range(len(S))))


def relabel(groups: list[list[int]], labels: list[int]) -> list[int | None]:
    """The story each group takes over (None: a new one), given the current
    story ``labels[i]`` of each member ``i``. The largest groups choose first;
    each takes the story most of its members had (the lowest id on ties) that
    no larger group took."""
    taken: set[int] = set()
    out: list[int | None] = [None] * len(groups)
    for g in sorted(range(len(groups)), key=lambda g: -len(groups[g])):
        votes = Counter(labels[i] for i in groups[g])
        for story, _ in sorted(votes.items(), key=lambda kv: (-kv[1], kv[0])):
            if story not in taken:
                taken.add(story)
                out[g] = story
                break
    return out


def regrouped(
    ids: list[int], labels: list[int], vecs: list[dict[str, float]], cache: PairCache, merge: bool
) -> list[tuple[list[int], int | None]]:
    """Re-partition articles ``ids`` (ascending; their stories ``labels``, stored
    weights ``vecs``): (article ids, story or None for a new one) per group, or
    [] when nothing changes. ``merge``: the articles come from two stories."""
    if not merge and len(ids) < 2 * SPLIT_MIN:
        return []
    groups = partition(cache.matrix(ids, vecs))
    if not merge and len(groups) == 1:
        return []
    targets = relabel(groups, labels)
    moves = [([ids[i] for i in g], t) for g, t in zip(groups, targets, strict=False)]
    if all(labels[i] == t for g, t in zip(groups, targets, strict=False) for i in g):
        return []
    return moves


@dataclass
class Doc:
    """An article as :func:`regroup` sees it."""

    article_id: int
    day: int | None
    tf: Mapping[str, float]


def regroup(
    docs: list[Doc],
    threshold: float = THRESHOLD,
    stats: TermStats | None = None,
    *,
    progressive: bool = False,
    ahead: int = 0,
    weighed: dict[int, tuple[list[str], dict[str, float]]] | None = None,
) -> dict[int, int]:
    """Offline grouping of a whole corpus: article id -> index of its story.

    The crawl's decisions in the given order (each article joins a story or
    starts one, then that story and its neighbour are re-partitioned, see
    :func:`regrouped`), but with the idf of the complete corpus from the
    start: a new corpus's first articles, compared while the idf knew little
    (phrases every page of a site repeats still looked telling), no longer
    stick together. ``stats``: the term statistics to weigh with (those of the
    documents, by default; the whole corpus's when ``docs`` are a part of it).
    The result depends on the order of ``docs`` and their ids only (give
    them in a canonical order, with ids in that order, for a result that
    depends on the documents alone).
    ``progressive``: ``stats`` are those before the documents, and each one
    adds its terms when it comes (as a crawl's writer does), but the first
    ``ahead`` ones count from the start (as the cold start of a new corpus
    regroups its first articles with the statistics of all of them). ``weighed`` collects each document's key terms and stored weights.
    Last, :func:`split_pass` with the final statistics.
    """
    if stats is None:
        stats = TermStats()
        if not progressive:
            for doc in docs:
                stats.add(doc.tf)
    postings: dict[str, list[int]] = {}
    kept: dict[int, Candidate] = {}
    members: dict[int, list[int]] = {}
    cache = PairCache()
    n_stories = 0
    for doc in docs[:ahead] if progressive else ():
        stats.add(doc.tf)
    for n, doc in enumerate(docs):
        if progressive and n >= ahead:
            stats.add(doc.tf)
        keys, stored = key_and_stored_terms(doc.tf, stats)
        if weighed is not None:
            weighed[doc.article_id] = (keys, stored)
        hits = Counter(a for k in keys for a in postings.get(k, ())[-POSTING_LIMIT:])
        cands = [
            kept[a]
            for a in sorted(hits, key=lambda a: (-hits[a], -a))
            if same_time(doc.day, kept[a].day)
        ][:MAX_CANDIDATES]
        decision = choose_story(doc.tf, doc.day, cands, stats, threshold)
        story = decision.story_id
        if story is None:
            story = n_stories
            n_stories += 1
        kept[doc.article_id] = Candidate(doc.article_id, story, doc.day, stored)
        members.setdefault(story, []).append(doc.article_id)
        for k in keys:
            postings.setdefault(k, []).append(doc.article_id)
        if decision.story_id is None:
            continue
        ids = sorted(
            a
            for s in (story, decision.neighbour)
            if s is not None
            for a in members[s][-RECLUSTER_MEMBERS:]
        )
        moves = regrouped(
            ids,
            [kept[a].story_id for a in ids],
            [kept[a].terms for a in ids],
            cache,
            merge=decision.neighbour is not None,
        )
        for group, target in moves:
            if target is None:
                target = n_stories
                n_stories += 1
            for a in group:
                old = kept[a].story_id
                if old != target:
                    members[old].remove(a)
                    members.setdefault(target, []).append(a)
                    kept[a].story_id = target
        for s in {kept[a].story_id for a in ids}:
            members[s].sort()
        for sid in (story, decision.neighbour):
            if sid is not None and not members.get(sid, True):
                del members[sid]
    story_of = {aid: cand.story_id for aid, cand in kept.items()}
    return split_pass(story_of, {doc.article_id: doc.tf for doc in docs}, stats)


def split_pass(
    story_of: dict[int, int], tfs: Mapping[int, Mapping[str, float]], stats: TermStats
) -> dict[int, int]:
    """Each story of ``story_of`` (article id -> story) once more re-partitioned
    (:func:`partition`), its newest :data:`FINAL_MEMBERS` members weighed with the
    final ``stats`` (and the cut may read the days they name, :func:`days_differ`):
    articles stored early were weighed with the statistics of the
    time, when terms common to a topic could still look telling, and two events of
    one topic that those weights kept together can part now. The largest group keeps
    the story; the others get new ones (numbered after the highest)."""
    members: dict[int, list[int]] = {}
    for aid in sorted(story_of):
        members.setdefault(story_of[aid], []).append(aid)
    out = dict(story_of)
    fresh = max(story_of.values(), default=-1) + 1
    for _, ids in sorted(members.items()):
        ids = ids[-FINAL_MEMBERS:]
        if len(ids) < 2 * SPLIT_MIN:
            continue
        vecs = [weigh(tfs[a], stats) for a in ids]
        days = [event_days(tfs[a]) for a in ids]
        groups = partition(PairCache().matrix(ids, vecs), days)
        # the largest keeps the story (the earliest on ties); the others are new stories
        for group in sorted(groups, key=lambda g: (-len(g), g[0]))[1:]:
            for i in group:
                out[ids[i]] = fresh
            fresh += 1
    return out
