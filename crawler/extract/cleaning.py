"""Remove the page chrome an extractor leaves behind, line by line.

Pure: no Scrapy. Works on plain text with one paragraph per line, whether it
came from trafilatura or from a ``.txt`` file.

The method is general rather than a list of phrases: each line gets features
(is it prose? does it end like a sentence? does it speak to the reader in the
imperative? is it a label, a credit, a list of platforms? is it repeated in
the document or across pages of the same site?) and a line is chrome when
those features say so. Where a line sits matters: the end and the start of an
article are where promo blocks, share bars and calls to action cluster, so a
run of non-prose lines there is removed, while in the middle of the body only
lines with strong chrome signals go (a short sub-heading stays).

Some chrome is recognised by the shape of the whole line in several languages
(en, de, es, fr, it, pt, nl): cross-reference labels ("Read also:", "Lesen Sie
auch:", "Te puede interesar"), editorial disclaimers ("The views expressed are
the author's own"), syndication and production notes ("This article originally
appeared on ...", "Reporting by X; Editing by Y"), calls to follow the outlet
on a named social platform, and lines that only address the reader ("Do you
have an opinion? Email us ..."). Each fires only on a short line of that shape,
so prose that merely uses the same words stays.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from crawler.extract.language import count_words, unspaced
from crawler.extract.patterns import (
    BOILERPLATE,
    CLAUSE,
    COOKIE,
    COPYRIGHT,
    CREDIT,
    CTA_OBJECTS,
    CTA_VERBS,
    DISCLAIMER,
    DURATION,
    INNER_STOP,
    INVISIBLE,
    LABEL,
    LIST_ITEM,
    MARKUP_LEAK,
    MAX_EDGE_RUN,
    PLATFORMS,
    PRODUCTION,
    PRODUCTION_SHORT,
    QUESTION_END,
    READER_OPENERS,
    SENTENCE_END,
    SENTENCE_SPLIT,
    SOCIAL_CTA,
    SOCIAL_OBJECT_WORDS,
    SPACES,
    STRONG,
    SYNDICATION,
    URLISH,
    WEAK_START,
    WORD,
    XREF,
    XREF_LABEL,
)

# --- normalisation ---------------------------------------------------------


def normalize_text(text: str) -> str:
    """NFC, one paragraph per line, single spaces, no empty lines."""
    text = INVISIBLE.sub("", unicodedata.normalize("NFC", text))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n")
    # SPACES never matches a newline: one pass over the whole text is the same
    # as one per line.
    lines = (line.strip() for line in SPACES.sub(" ", text).split("\n"))
    return "\n".join(line for line in lines if line)


def _is_xref(text: str, n: int) -> bool:
    """A cross-reference label alone, or label + separator + linked headline."""
    if n > 25:
        return False
    m = XREF_LABEL.match(text)
    if not m:
        return False
    rest = m.group("rest").strip(" *_.…")
    if not rest:
        return True
    # A headline after the label, not a paragraph that starts like one.
    return bool(m.group("sep")) and not INNER_STOP.search(rest)


def _is_social_cta(text: str) -> bool:
    m = SOCIAL_CTA.search(text)
    if not m:
        return False
    verb, obj = m.group("verb"), m.group("object").split()
    if not obj:
        # "Síguenos en X", "Suivez-nous sur X": the pronoun is in the verb;
        # a bare "Follow on X" is as clear.
        return True
    return any(w.lower() in SOCIAL_OBJECT_WORDS or w[:1].isupper() for w in obj) or (
        verb.lower().endswith(("nous", "nos", "ci", "with"))
    )


def _reader_address(text: str, n: int) -> bool:
    """A short line made only of reader calls to action and reader questions."""
    if n > 45 or not text:
        return False
    first = WORD.match(text.lstrip("\"'“‘(["))
    if "?" not in text and not (first and first.group().lower() in READER_OPENERS):
        return False  # the first sentence is neither a question nor an imperative
    has_cta = False
    for sentence in SENTENCE_SPLIT.split(text):
        words = [w.lower() for w in WORD.findall(sentence)]
        if not words:
            continue
        if words[0] in CTA_VERBS and any(w in CTA_OBJECTS for w in words[1:4]):
            has_cta = True
        elif words[:2] in (["write", "to"], ["get", "in"], ["have", "your"]):
            has_cta = True
        elif not (
            QUESTION_END.search(sentence) and (len(words) <= 8 or "you" in words or "your" in words)
        ):
            return False
    return has_cta


@dataclass
class Line:
    text: str
    words: list[str]
    prose: bool
    cta: bool
    label: bool
    share_bar: bool
    strong: bool
    boilerplate: bool
    media: bool
    list_item: bool = False
    urlish: bool = False
    #: a cross-reference ("Read also: <headline>", "Lesen Sie auch:", "Te puede interesar")
    xref: bool = False
    #: an editorial disclaimer ("The views expressed are the author's own.")
    disclaimer: bool = False
    #: a syndication or production note ("This article originally appeared on ...")
    syndication: bool = False
    #: a call to follow the outlet on a named social platform
    social_cta: bool = False
    #: only reader calls to action and questions to "you" ("Do you ...? Email us ...")
    reader_cta: bool = False

    #: words as the language counts them (:func:`~crawler.extract.language.count_words`)
    n_words: int = -1

    @property
    def n(self) -> int:
        return len(self.words) if self.n_words < 0 else self.n_words


def _features(text: str) -> Line:
    # Every test below that only matters for short lines is gated on the word
    # count first, so a long paragraph costs a few regex scans, not all of them.
    words = WORD.findall(text)
    lower = [w.lower() for w in words]
    # Chinese, Japanese or Thai: a sentence is one or two "words" between
    # punctuation; count them as the language writes them.
    n = max(len(words), count_words(text)) if unspaced(text) else len(words)
    ends_sentence = bool(SENTENCE_END.search(text))
    # Prose: a sentence, several sentences, or a long line of running text
    # that lost its stop.
    prose = (ends_sentence and n >= 3) or n >= 25 or (n >= 12 and bool(INNER_STOP.search(text)))
    list_item = bool(LIST_ITEM.match(text))
    first = lower[0] if lower else ""
    cta = (
        first in CTA_VERBS
        and n <= 20
        and (any(w in CTA_OBJECTS for w in lower[1:]) or not ends_sentence)
    )
    urlish = n <= 12 and not ends_sentence and bool(URLISH.search(text))
    label = n <= 4 and bool(LABEL.match(text))
    share_bar = n > 0 and n <= 12 and sum(w in PLATFORMS for w in lower) >= max(2, n - 1)
    # A copyright notice written as a sentence closes many agency stories and
    # belongs to them; a bare "© 2024 Site" is footer chrome.
    copyright_line = n <= 25 and not prose and bool(COPYRIGHT.search(text))
    strong = (
        bool(STRONG.match(text.strip(" -–—|•·*")))
        or copyright_line
        or (n <= 25 and bool(CREDIT.match(text)))
        or (n <= 60 and bool(COOKIE.search(text)))
        or (n <= 30 and ("=" in text or "[/" in text) and bool(MARKUP_LEAK.search(text)))
    )
    boilerplate = n <= 15 and bool(BOILERPLATE.search(text))
    if n <= 20 and not ends_sentence and XREF.match(text):
        cta = True
    media = n <= 15 and not list_item and bool(DURATION.search(text))
    xref = _is_xref(text, n)
    disclaimer = syndication = social_cta = False
    if n <= 60:
        # Whole-line shapes; "few sentences" keeps a paragraph that merely opens
        # with such words (a disclaimer or credit note is one or two sentences).
        sentences = len(INNER_STOP.findall(text)) + 1 if n <= 40 else 3
        disclaimer = n <= 40 and sentences <= 2 and bool(DISCLAIMER.search(text))
        syndication = (
            n <= 35
            and sentences <= 2
            and bool(SYNDICATION.search(text))
            or (bool(PRODUCTION.match(text)))
            or (n <= 12 and not ends_sentence and bool(PRODUCTION_SHORT.match(text)))
        )
        social_cta = n <= 30 and sentences <= 2 and _is_social_cta(text)
    reader_cta = not list_item and _reader_address(text, n)
    return Line(
        text,
        words,
        prose,
        cta,
        label,
        share_bar,
        strong,
        boilerplate,
        media,
        list_item,
        urlish,
        xref,
        disclaimer,
        syndication,
        social_cta,
        reader_cta,
        n,
    )


def _key(text: str) -> str:
    return " ".join(WORD.findall(text.casefold()))


def _line_key(line: Line) -> str:
    """:func:`_key` of a line, from the words :func:`_features` found: for ASCII
    text case-folding is lowercasing and cannot move a word boundary."""
    if line.text.isascii():
        return " ".join(line.words).lower()
    return _key(line.text)


def line_key(text: str) -> str:
    """How lines are compared across pages: case-folded words, no punctuation."""
    return _key(text)


# --- the cleaner -------------------------------------------------------------


@dataclass
class Cleaned:
    text: str
    #: removed lines with the reason, for debugging and the reclean report.
    removed: list[tuple[str, str]] = field(default_factory=list)


def _strong_reason(line: Line, repeated: bool, in_list: bool = False) -> str | None:
    """Chrome wherever the line stands (the middle of an article included).

    Items of a list ("- Sign in with the same e-mail") are content written in
    the imperative often enough that only the unambiguous signals apply
    (an imperative that also uses newsletter/subscribe/cookie wording goes).
    """
    if line.share_bar:
        return "share bar"
    if line.strong:
        return "ad, credit, cookie or copyright line"
    if line.xref:
        return "cross-reference"
    if line.disclaimer:
        return "editorial disclaimer"
    if line.syndication:
        return "syndication or production note"
    if line.social_cta:
        return "call to follow on social media"
    if line.cta and line.boilerplate:
        return "call to action"
    if in_list or line.list_item:
        return None
    if line.cta and not line.prose:
        return "call to action"
    if line.media and not line.prose:
        return "media promo"
    return None


def _edge_reason(line: Line, repeated: bool, in_list: bool) -> str | None:
    """Why a line at the start or end of the article is chrome, if it has a signal."""
    reason = _strong_reason(line, repeated, in_list)
    if reason:
        return reason
    if line.label:
        return "label with nothing after it"
    if line.boilerplate and (not line.prose or line.n <= 12):
        return "boilerplate wording"
    if line.cta:
        return "call to action"
    if line.reader_cta:
        return "call to action addressed to the reader"
    if repeated and not line.prose and not in_list:
        return "repeated non-prose line"
    return None


def clean_text(
    text: str,
    *,
    title: str | None = None,
    site_lines: Iterable[str] = (),
) -> Cleaned:
    """Remove chrome lines from ``text`` (one paragraph per line).

    ``title`` lets a repeated headline be removed; ``site_lines`` are line
    keys known to repeat across pages of the same site (site profile).
    """
    lines = [_features(t) for t in normalize_text(text).split("\n") if t]
    keys = [_line_key(line) for line in lines]
    counts = Counter(k for k in keys if k)
    title_key = _key(title) if title else ""
    site = set(site_lines)
    removed: list[tuple[str, str]] = []
    keep = [True] * len(lines)
    # A list item with a list item beside it is part of a list.
    in_list = [
        line.list_item
        and ((i > 0 and lines[i - 1].list_item) or (i + 1 < len(lines) and lines[i + 1].list_item))
        for i, line in enumerate(lines)
    ]

    def drop(i: int, why: str) -> None:
        keep[i] = False
        removed.append((lines[i].text, why))

    for i, (line, key) in enumerate(zip(lines, keys, strict=True)):
        if not key:
            drop(i, "no words")
            continue
        if key == title_key and (i == 0 or not line.prose):
            drop(i, "repeats the title")
            continue
        if key in site:
            drop(i, "repeats across pages of this site")
            continue
        why = _strong_reason(line, counts[key] > 1, in_list[i])
        if why:
            drop(i, why)

    # Trim chrome at the end, then at the start: lines with a chrome signal,
    # and short runs of plain non-prose lines among them.
    for at_end, order in (
        (True, list(range(len(lines) - 1, -1, -1))),
        (False, list(range(len(lines)))),
    ):
        kept_order = [i for i in order if keep[i]]
        for pos, i in enumerate(kept_order):
            line = lines[i]
            why = _edge_reason(line, counts[keys[i]] > 1, in_list[i])
            if why is None and not line.prose and not in_list[i] and (at_end or WEAK_START):
                run = 0
                for j in kept_order[pos:]:
                    if lines[j].prose or _edge_reason(lines[j], counts[keys[j]] > 1, in_list[j]):
                        break
                    run += 1
                if run <= MAX_EDGE_RUN:
                    why = "non-prose line at the edge"
            if why is None:
                break
            drop(i, why)

    # Never throw the whole article away on line shape alone: if nothing
    # prose-like survived, fall back to the lines without strong signals.
    if not any(keep) and lines:
        for i, line in enumerate(lines):
            if keys[i] and _strong_reason(line, False) is None:
                keep[i] = True
    kept = [line.text for line, k in zip(lines, keep, strict=True) if k]
    return Cleaned("\n".join(kept), removed)


# --- titles --------------------------------------------------------------------


def is_prose(line: str) -> bool:
    """A sentence, several sentences, or a long line of running text."""
    return _features(line).prose


def looks_like_headline(line: str) -> bool:
    """A short line that does not end like a sentence and is not chrome."""
    f = _features(line)
    if not 2 <= f.n <= 25 or len(line) > 200:
        return False
    if line.rstrip("\"'”’»)」』）").endswith((".", ":", ";", ",", "。", "：", "；", "，")):
        return False
    return _strong_reason(f, False) is None and not f.boilerplate


def derive_title(text: str, max_words: int = 14) -> str:
    """A title from the lead: its first sentence, cut at a clause if long."""
    first = normalize_text(text).split("\n", 1)[0] if text.strip() else ""
    m = re.search(r"(?<=[.!?])\s+(?=[A-Z\"“‘'])", first)
    sentence = first[: m.start()] if m else first
    sentence = sentence.rstrip(" .")
    words = sentence.split()
    if len(words) <= max_words:
        return sentence
    for cut in CLAUSE.finditer(sentence):
        head = sentence[: cut.start()]
        if 6 <= len(head.split()) <= max_words + 4:
            return head.rstrip(" ,;:–—-")
    return " ".join(words[:max_words]).rstrip(",;:") + "…"
