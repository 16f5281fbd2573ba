"""Story grouping: which stored articles cover the same event.

Pure: no Scrapy, no SQLite. :class:`crawler.storage.storyindex.StoryIndex` feeds
it the candidates it fetched from its index and stores what it decides.

Method (in arrival order):

* An article's *terms* are its content words (lowercased, stopwords dropped,
  plural endings folded), its capitalised multiword names (``n:vincent
  jackson``) counted :data:`NAME_WEIGHT` times and its numbers (``#6.1``)
  counted :data:`NUMBER_WEIGHT` times; the title counts as text.
* The first weekday and the first day of a month the article names (``on
  Tuesday``, ``October 8``) are kept as terms that are never weighed
  (``@weekday=tuesday``, ``@date=oct-8``, see :data:`SPECIFIC`): the regroup's
  last split reads them (:func:`crawler.stories.repartition.days_differ`).
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
  re-partitioned (:func:`crawler.stories.repartition.regrouped`): stories split and merge as they grow.

The same decisions replayed over the whole corpus in storage order, with the
idf of the complete corpus, are :func:`crawler.stories.repartition.regroup`
(``scrapy stories rebuild``).

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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter

THRESHOLD = 0.17
WINDOW_DAYS = 3
NAME_WEIGHT = 2
#: each number in the text (``#6.1``, ``#2012``, ``#24``) counts this many times:
#: magnitudes, tolls, scores and years tell events of one kind apart
NUMBER_WEIGHT = 2
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
_WEEKDAY = re.compile(r"\b(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b")
_MONTH = (
    r"(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
#: a day of a month: ``October 8``, ``Oct. 8th``, ``8 October``
_MONTH_DAY = re.compile(
    rf"\b(?:{_MONTH}\.? ([0-3]?\d)(?:st|nd|rd|th)?\b|([0-3]?\d)(?:st|nd|rd|th)? {_MONTH}\b)"
)
#: the prefix of the terms that are counted but never weighed (:func:`weigh` and
#: :class:`TermStats` skip them): what the article says of its event's day, read
#: by :func:`event_days`
SPECIFIC = "@"


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
    whole = f"{title or ''}\n{text}"
    day = _WEEKDAY.search(whole)
    if day:  # the first weekday named: mostly the day of the event ("on Tuesday")
        out[_WEEKDAY_TERM + day.group(1).lower()] = 1
    md = _MONTH_DAY.search(whole)
    if md:  # the first day of a month named ("October 8"): the event's, or the dateline's
        month, number = (md.group(1), md.group(2)) if md.group(1) else (md.group(4), md.group(3))
        out[f"{_DATE_TERM}{month[:3].lower()}-{int(number)}"] = 1
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


def event_days(tf: Mapping[str, float]) -> tuple[str | None, str | None]:
    """The first weekday (``tuesday``) and the first day of a month (``oct-8``) an
    article names, from its :func:`terms`; None where it names none."""
    day = next((d for term, d in _WEEKDAYS if term in tf), None)
    date = next((t[len(_DATE_TERM) :] for t in tf if t.startswith(_DATE_TERM)), None)
    return day, date


_WEEKDAY_TERM = f"{SPECIFIC}weekday="
_DATE_TERM = f"{SPECIFIC}date="
_WEEKDAYS = [
    (_WEEKDAY_TERM + day, day)
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
]


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
            if term[0] == SPECIFIC:
                continue
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


def weigh(tf: Mapping[str, float], stats: TermStats) -> dict[str, float]:
    """Sublinear tf x idf, L2-normalised."""
    vec = {}
    for term, count in tf.items():
        if term[0] == SPECIFIC:
            continue
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


def stored_terms(tf: Mapping[str, float], stats: TermStats) -> dict[str, float]:
    """The weights kept for later comparisons: the heaviest :data:`STORED_TERMS` of the
    normalised vector, with the idf of the time the article was added (a stored
    article is never re-weighted: that keeps the cost of a comparison flat)."""
    return key_and_stored_terms(tf, stats)[1]


def key_and_stored_terms(
    tf: Mapping[str, float], stats: TermStats, weighed: dict[str, float] | None = None
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
    #: too), if any: re-clustering looks at both (:func:`crawler.stories.repartition.partition`)
    neighbour: int | None = None


def choose_story(
    tf: Mapping[str, float],
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


# --- the story view: shared and unique sentences ----------------------------


def sentences(text: str) -> list[str]:
    """The sentences of a clean text (paragraphs are lines)."""
    out: list[str] = []
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
