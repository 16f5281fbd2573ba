"""Story grouping: which stored articles cover the same event.

Pure: no Scrapy, no SQLite. :class:`crawler.storage.corpus.Corpus` feeds it the
candidates it fetched from its index and stores what it decides.

Method (in arrival order):

* An article's *terms* are its content words (lowercased, stopwords dropped,
  plural endings folded), its capitalised multiword names (``n:vincent
  jackson``) counted :data:`NAME_WEIGHT` times and its numbers (``#6.1``)
  counted :data:`NUMBER_WEIGHT` times; the title counts as text.
* Terms are weighted by sublinear tf x idf, the idf coming from the corpus
  itself (:class:`TermStats`, document frequencies over every stored article,
  hashed into a fixed array so the cost stays flat), and vectors are
  L2-normalised.
* A new article is compared (cosine) with the stored articles that share one
  of its :data:`KEY_TERMS` heaviest terms and whose publication dates are
  within :data:`WINDOW_DAYS` days of its own (an undated article is
  compatible with any date; so is one whose date is only a year or was
  guessed from its text, see :func:`day_of`). It joins the story of its most similar article
  when that similarity reaches :data:`THRESHOLD`, otherwise it starts a story.
* Then that story and its neighbour (:attr:`Decision.neighbour`) are
  re-partitioned (:func:`regrouped`): stories split and merge as they grow.

The same decisions replayed over the whole corpus in storage order, with the
idf of the complete corpus, are :func:`regroup` (``scrapy stories rebuild``).

Story view: :func:`sentences` splits a text into sentences and
:func:`sentence_key` normalises one, so storage can mark which sentences
another outlet's article of the same story also has.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
import unicodedata
from array import array
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter, mul, sub

THRESHOLD = 0.17
WINDOW_DAYS = 3
NAME_WEIGHT = 2.0
#: each number in the text (``#6.1``, ``#2012``, ``#24``) counts this many times:
#: magnitudes, tolls, scores and years tell events of one kind apart
NUMBER_WEIGHT = 2.0
KEY_TERMS = 30
#: the candidates of a new article: the MAX_CANDIDATES stored articles sharing
#: the most key terms with it, among the POSTING_LIMIT newest of each key term
#: (bounds the cost of an article whatever the corpus size). A key term with
#: more postings than that is a common one; the story bench groups the same,
#: online and rebuilt, with 20 as with 50 and 200, and at 100,000 stored
#: articles the lookup takes 0.8 ms with 20 against 1.5 ms with 50.
MAX_CANDIDATES = 20
POSTING_LIMIT = 20
STORED_TERMS = 400
DF_BUCKETS = 1 << 20
#: idf as if the corpus also held this many documents without the term, so
#: that the first articles of a new corpus, which share every term with each
#: other, can still be compared (negligible once the corpus is large).
PRIOR_DOCS = 50

STOPWORDS = frozenset(
    """
a about above after again against all also am an and any are as at be because been before
being below between both but by can could did do does doing down during each few for from
further had has have having he her here hers herself him himself his how i if in into is it
its itself just me more most my myself no nor not now of off on once only or other our ours
ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we were
what when where which while who whom why will with would you your yours yourself yourselves
said says say one two new like get got told according mr mrs ms may might us year years last
first time people just
""".split()
)

_WORD = re.compile(r"[^\W\d_][\w'\-]*", re.UNICODE)
_NAME = re.compile(r"\b[A-Z][a-z]+(?:[ \-](?:[A-Z][a-z]+|of|de|van|von|al))*\b")
_SENTENCE_END = re.compile(r"(?<=[.!?…\"”'’])\s+(?=[\"“‘'(\[]?[A-Z0-9])")
_KEY_TOKEN = re.compile(r"\w+", re.UNICODE)
_NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,:]\d+)*(?!\w)")


_WEIGHT = itemgetter(1)


def stem(word: str) -> str:
    """Fold plural endings: ``villages`` -> ``village``, ``cities`` -> ``city``."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "shes", "ches", "xes", "zes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@functools.lru_cache(maxsize=1 << 16)
def _term_of(word: str) -> str | None:
    """The term a lowercased word counts as, or None (short, a stopword)."""
    word = word.strip("'-")
    if len(word) < 3 or word in STOPWORDS:
        return None
    return stem(word)


def terms(title: str | None, text: str) -> Counter[str]:
    """Term counts of an article (title and body)."""
    out: Counter[str] = Counter()
    for part in (text, title or ""):
        part = unicodedata.normalize("NFKC", part)
        # _term_of gives None or a non-empty term: filter(None) drops exactly the Nones
        out.update(filter(None, map(_term_of, _WORD.findall(part.lower()))))
        for name in _NAME.findall(part):
            if " " in name:
                out["n:" + name.lower()] += NAME_WEIGHT
        for number in _NUMBER.findall(part):
            out["#" + number.replace(",", "")] += NUMBER_WEIGHT
    return out


def term_hash(term: str) -> int:
    """A stable signed 64-bit id of a term (index keys in SQLite)."""
    return int.from_bytes(
        hashlib.blake2b(term.encode("utf-8"), digest_size=8).digest(), "little", signed=True
    )


@functools.lru_cache(maxsize=1 << 18)
def _bucket(term: str) -> int:
    return term_hash(term) % DF_BUCKETS


@dataclass
class TermStats:
    """Document frequencies of terms over the corpus, hashed into buckets."""

    docs: int = 0
    df: array = field(default_factory=lambda: array("I", bytes(4 * DF_BUCKETS)))

    def add(self, document_terms: Iterable[str], sign: int = 1) -> None:
        self.docs += sign
        for term in set(document_terms):
            b = _bucket(term)
            self.df[b] = max(0, self.df[b] + sign)

    def idf(self, term: str) -> float:
        return math.log((self.docs + PRIOR_DOCS + 1) / (self.df[_bucket(term)] + 1))

    def to_bytes(self) -> bytes:
        return self.df.tobytes()

    @classmethod
    def from_bytes(cls, docs: int, blob: bytes | None) -> TermStats:
        stats = cls(docs=docs)
        if blob and len(blob) == 4 * DF_BUCKETS:
            stats.df = array("I", blob)
        return stats


def weigh(tf: dict[str, float], stats: TermStats) -> dict[str, float]:
    """Sublinear tf x idf, L2-normalised."""
    vec = {}
    for term, count in tf.items():
        w = (1 + math.log(count) if count >= 1 else count) * stats.idf(term)
        if w > 0:
            vec[term] = w
    norm = math.sqrt(sum(w * w for w in vec.values())) or 1.0
    return {t: w / norm for t, w in vec.items()}


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    # Only the shared terms count: intersect the keys (in C) and add those up.
    # fsum is exact, so the set's order (it varies with the hash seed) cannot
    # change the result: the same on every run.
    return math.fsum(a[t] * b[t] for t in a.keys() & b.keys())


def ranked(weighted: dict[str, float]) -> list[tuple[str, float]]:
    """(term, weight) heaviest first, ties by the term itself (deterministic): sorted
    by term, then stably by weight."""
    return sorted(sorted(weighted.items()), key=_WEIGHT, reverse=True)


def top_terms(tf: dict[str, float], stats: TermStats, n: int) -> list[str]:
    """The ``n`` heaviest terms (ties broken by the term itself: deterministic)."""
    return [t for t, _ in ranked(weigh(tf, stats))[:n]]


def stored_terms(tf: dict[str, float], stats: TermStats) -> dict[str, float]:
    """The weights kept for later comparisons: the heaviest :data:`STORED_TERMS` of the
    normalised vector, with the idf of the time the article was added (a stored
    article is never re-weighted: that keeps the cost of a comparison flat)."""
    return key_and_stored_terms(tf, stats)[1]


def key_and_stored_terms(
    tf: dict[str, float], stats: TermStats, weighed: dict[str, float] | None = None
) -> tuple[list[str], dict[str, float]]:
    """The :data:`KEY_TERMS` heaviest terms and the :func:`stored_terms`, from one
    weighing (``weighed``: :func:`weigh` of ``tf``, if already done)."""
    top = ranked(weighed if weighed is not None else weigh(tf, stats))
    return [t for t, _ in top[:KEY_TERMS]], {t: round(w, 5) for t, w in top[:STORED_TERMS]}


_MIDNIGHT = re.compile(r"T00:00(?::00(?:\.0+)?)?(?:Z|[+-]00:?00)?$")


def year_only(published: str) -> bool:
    """Is ``published`` a bare year dressed up as a date (``2001-01-01``, no time)?

    Date guessers (trafilatura/htmldate searching the page text) turn a year
    they find into January 1st; such a date says nothing about the day, and
    a 3-day window around it would cut an article off its story.
    """
    rest = published[10:]
    return published[4:10] == "-01-01" and (not rest or bool(_MIDNIGHT.match(rest)))


def day_of(published: str | None, guessed: bool = False) -> int | None:
    """Day number of an ISO 8601 date, or None when absent, unreadable, only a
    year (:func:`year_only`) or ``guessed`` (read from the text by a heuristic
    rather than from the page's markup or a feed: not trusted for the window)."""
    if not published or guessed or year_only(published):
        return None
    try:
        return date.fromisoformat(published[:10]).toordinal()
    except ValueError:
        return None


def same_time(a: int | None, b: int | None, window: int = WINDOW_DAYS) -> bool:
    return a is None or b is None or abs(a - b) <= window


@dataclass
class Candidate:
    article_id: int
    story_id: int
    day: int | None
    terms: dict[str, float]  # normalised weights (:func:`stored_terms`)


@dataclass
class Decision:
    story_id: int | None  # None: start a new story
    similarity: float
    article_id: int | None = None  # the most similar article
    #: the other story the article is most similar to (at least the threshold
    #: too), if any: re-clustering looks at both (:func:`partition`)
    neighbour: int | None = None


def choose_story(
    tf: dict[str, float],
    day: int | None,
    candidates: Iterable[Candidate],
    stats: TermStats,
    threshold: float = THRESHOLD,
    weighed: dict[str, float] | None = None,
) -> Decision:
    """The story a new article joins (its most similar compatible article's), or none.
    ``weighed``: :func:`weigh` of ``tf`` with ``stats``, if already done."""
    vec = weighed if weighed is not None else weigh(tf, stats)
    best = Decision(None, 0.0)
    by_story: dict[int, float] = {}
    for cand in sorted(candidates, key=lambda c: c.article_id):
        if not same_time(day, cand.day):
            continue
        sim = cosine(vec, cand.terms)
        if sim > by_story.get(cand.story_id, -1.0):
            by_story[cand.story_id] = sim
        if sim > best.similarity:
            best = Decision(cand.story_id, sim, cand.article_id)
    if best.similarity >= threshold:
        others = [
            (-sim, sid)
            for sid, sim in by_story.items()
            if sid != best.story_id and sim >= threshold
        ]
        if others:
            best.neighbour = min(others)[1]  # the most similar; the lowest id on ties
        return best
    return Decision(None, best.similarity, best.article_id)


# --- re-clustering: stories split and merge as they grow ---------------------
#
# A single pass decides on each article once, with what it knew then; an early
# article that bridged two events, or two stories that turn out to be one,
# would stay wrong forever. So after an article joins a story, that story and
# its neighbour (the other story the article is also similar enough to) are
# re-partitioned: the newest RECLUSTER_MEMBERS members of each, compared with
# each other, cut in two by a normalised cut on their nearest-neighbour graph,
# recursively, as long as each cut separates clearly. The groups then take
# over the stories most of their members had (merging the two stories when
# they are one group). The cost is bounded by the member caps, whatever the
# size of the corpus or of the story.

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
        for j, w in adj[i].items():  # i joins A: its links to A stop being cut
            cut += -w if in_a[j] else w
        in_a[i] = True
        vol_a += d[i]
        ncut = cut / vol_a + cut / (vol - vol_a)
        if ncut < best - 1e-12:
            best, size = ncut, k + 1
    return order[:size], order[size:]


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def cut_holds(S: list[list[float]], A: list[int], B: list[int]) -> bool:
    """Does the cut (A, B) separate two stories clearly? (see :data:`SPLIT_MIN`,
    :data:`SPLIT_NEIGHBOURS`, :data:`SPLIT_RATIO`)"""
    smaller = min(len(A), len(B))
    if smaller < SPLIT_MIN:
        return False
    in_a = set(A)
    k = min(SPLIT_NEIGHBOURS, smaller - 1)
    for i in range(len(S)):
        if any((j in in_a) != (i in in_a) for j in _nearest(S[i], i, k)):
            return False
    between = _mean([S[a][b] for a in A for b in B])
    within = (
        _mean([S[a][b] for x, a in enumerate(A) for b in A[x + 1 :]])
        + _mean([S[a][b] for x, a in enumerate(B) for b in B[x + 1 :]])
    ) / 2
    return within > 0 and between / within < SPLIT_RATIO


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


def partition(S: list[list[float]]) -> list[list[int]]:
    """Groups of indices of ``S``: recursive :func:`ncut_bisect` while :func:`cut_holds`."""

    def split(idx: list[int]) -> list[list[int]]:
        if len(idx) < 2 * SPLIT_MIN:
            return [idx]
        part = [[S[a][b] for b in idx] for a in idx]
        if not _may_split(part):
            return [idx]
        A, B = ncut_bisect(part)
        if not cut_holds(part, A, B):
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
    tf: dict[str, float]


def regroup(docs: list[Doc], threshold: float = THRESHOLD) -> dict[int, int]:
    """Offline grouping of a whole corpus: article id -> index of its story.

    The crawl's decisions in the given order (each article joins a story or
    starts one, then that story and its neighbour are re-partitioned, see
    :func:`regrouped`), but with the idf of the complete corpus from the
    start: a new corpus's first articles, compared while the idf knew little
    (phrases every page of a site repeats still looked telling), no longer
    stick together.
    """
    stats = TermStats()
    for doc in docs:
        stats.add(doc.tf)
    postings: dict[str, list[int]] = {}
    kept: dict[int, Candidate] = {}
    members: dict[int, list[int]] = {}
    cache = PairCache()
    n_stories = 0
    for doc in docs:
        keys, stored = key_and_stored_terms(doc.tf, stats)
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
        for s in (story, decision.neighbour):
            if s is not None and not members.get(s, True):
                del members[s]
    return {aid: cand.story_id for aid, cand in kept.items()}


# --- the story view: shared and unique sentences ----------------------------


def sentences(text: str) -> list[str]:
    """The sentences of a clean text (paragraphs are lines)."""
    out = []
    for line in text.split("\n"):
        line = line.strip()
        if line:
            out.extend(s.strip() for s in _SENTENCE_END.split(line) if s.strip())
    return out


def sentence_key(sentence: str, min_words: int = 4) -> str | None:
    """A normalised form of a sentence (case, punctuation, quotes ignored), or None if short."""
    words = _KEY_TOKEN.findall(unicodedata.normalize("NFKC", sentence).casefold())
    if len(words) < min_words:
        return None
    return hashlib.blake2b(" ".join(words).encode("utf-8"), digest_size=8).hexdigest()
