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
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

# --- normalisation ---------------------------------------------------------

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_SPACES = re.compile(r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")


def normalize_text(text: str) -> str:
    """NFC, one paragraph per line, single spaces, no empty lines."""
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n")
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


# --- line features -----------------------------------------------------------

_WORD = re.compile(r"[^\W_]+(?:['’.-][^\W_]+)*", re.UNICODE)
# A sentence ends in . ! ? or an ellipsis, possibly inside closing quotes/brackets.
_SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]*$|[\"”’»][.!?…]$")
_LABEL = re.compile(r"^[^\W\d_][\w'’ &/-]{0,30}:$", re.UNICODE)
_DURATION = re.compile(
    r"\(\s*\d{1,3}\s*(?:\\?['’′]|min(?:s|utes)?|:\d{2})\s*\)|(?:^|\s)\d{1,2}:\d{2}(?::\d{2})?(?:\s|$)"
)
_URLISH = re.compile(r"https?://|www\.|\S+@\S+\.\w+|\.(?:com|org|net)\b")

# Verbs with which chrome addresses the reader ("Share your story", "Follow us").
_CTA_VERBS = frozenset(
    """share send subscribe sign follow join download watch listen read click tap
    like comment get tell email contact support donate register log login see view
    continue load discover explore visit check install enable allow accept manage
    become upgrade try start submit upload report leave post tweet pin print save
    bookmark shop buy order claim unlock sponsor advertise""".split()
)
# Addressee words that make an imperative line a call to action.
_CTA_OBJECTS = frozenset(
    "us our your you yours we newsletter app updates story stories tips tip".split()
)
_PLATFORMS = frozenset(
    """facebook twitter x whatsapp telegram instagram linkedin email e-mail mail
    pinterest reddit youtube tiktok messenger viber threads bluesky mastodon flipboard
    copy link print sms rss share tweet""".split()
)
# Vocabulary that is nearly always chrome when a short line is built from it.
_BOILERPLATE = re.compile(
    r"\b(?:cookies?|newsletters?|subscri(?:be|ption|bers?)|sign(?:ed)? ?up|log ?in|"
    r"advert(?:isement|ising)?|sponsored|promoted|"
    r"terms of (?:use|service)|privacy (?:policy|settings)|read more|click here|"
    r"related (?:articles?|stories|content|news)|most (?:read|popular|viewed)|"
    r"recommended (?:for you|stories)|trending|notifications|our app|"
    r"free trial|paywall|comments? (?:are|section)|leave a (?:reply|comment)|"
    r"download (?:the|our)|follow us|(?:share|send|tell) (?:us|your)|"
    r"(?:requires?|enable|turn on) javascript|javascript (?:is )?(?:required|disabled))\b",
    re.IGNORECASE,
)
_STRONG = re.compile(
    r"^(?:advertisement|advertising|sponsored(?: content)?|ad|anzeige|publicidad|"
    r"publicité|werbung|story continues below(?: advertisement)?|"
    r"scroll (?:down )?to continue(?: reading)?|continue reading(?: below)?|"
    r"skip (?:to|advert)\b.*|loading(?:\.\.\.|…)?)$",
    re.IGNORECASE,
)
_CREDIT = re.compile(
    r"^(?:\(?(?:photo|image|picture|pictured|video|graphic|illustration|source|credit|"
    r"foto|bild|fotografía|imagen)s?\s*(?:credit)?\s*[:|/©-]|©|\(c\)\s)",
    re.IGNORECASE,
)
# "Related: <headline>", "Read more: <headline>": a cross-reference label and
# the linked headline (three words or more; "See it: Shop" is a product link).
_XREF = re.compile(
    r"^(?:related|read|see|also|more|watch|listen|tags?|topics?|filed|follow|share|"
    r"recommended|trending|popular|latest|further|next|previous|more on)\b[\w ]{0,20}:"
    r"\s*\S+\s+\S+\s+\S",
    re.IGNORECASE,
)
# Markup that was never rendered: [shortcode attr="x"]...[/shortcode], {{ var }}.
_MARKUP_LEAK = re.compile(r"\[/?[a-z_]+(?:\s+[a-z_-]+\s*=\s*[\"'”“][^\]]*)?\]|\{\{.*\}\}", re.I)
_COPYRIGHT = re.compile(r"(?:©|\(c\)|copyright\s+(?:©\s*)?\d{4}|all rights reserved)", re.I)
_COOKIE = re.compile(
    r"\bcookies?\b.*\b(?:use|accept|consent|agree|preferences|settings|policy|experience)\b|"
    r"\b(?:use|accept|consent|agree)\b.*\bcookies?\b",
    re.IGNORECASE,
)


# A list item as extractors write it: "- item", "• item", "3) item", "3. item".
_LIST_ITEM = re.compile(r"^(?:[-–—•*·▪►]\s|\(?\d{1,3}[.)]\s)")
# A sentence boundary inside a line: several sentences make a line prose.
_INNER_STOP = re.compile(r"[.!?…][\"'”’»)\]]*\s+[\"“‘'(]?[^\W\d_]", re.UNICODE)


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

    @property
    def n(self) -> int:
        return len(self.words)


def _features(text: str) -> Line:
    words = _WORD.findall(text)
    lower = [w.lower() for w in words]
    n = len(words)
    ends_sentence = bool(_SENTENCE_END.search(text))
    # Prose: a sentence, several sentences, or a long line of running text
    # that lost its stop.
    prose = (ends_sentence and n >= 3) or n >= 25 or (n >= 12 and bool(_INNER_STOP.search(text)))
    list_item = bool(_LIST_ITEM.match(text))
    first = lower[0] if lower else ""
    cta = (
        first in _CTA_VERBS
        and n <= 20
        and (any(w in _CTA_OBJECTS for w in lower[1:]) or not ends_sentence)
    )
    urlish = n <= 12 and bool(_URLISH.search(text)) and not ends_sentence
    label = bool(_LABEL.match(text)) and n <= 4
    share_bar = n > 0 and n <= 12 and sum(w in _PLATFORMS for w in lower) >= max(2, n - 1)
    # A copyright notice written as a sentence closes many agency stories and
    # belongs to them; a bare "© 2024 Site" is footer chrome.
    copyright_line = n <= 25 and bool(_COPYRIGHT.search(text)) and not prose
    strong = bool(_STRONG.match(text.strip(" -–—|•·*"))) or copyright_line or (
        n <= 25 and bool(_CREDIT.match(text))
    ) or bool(_COOKIE.search(text) and n <= 60) or (
        n <= 30 and bool(_MARKUP_LEAK.search(text)) and ("=" in text or "[/" in text)
    )
    boilerplate = n <= 15 and bool(_BOILERPLATE.search(text))
    if _XREF.match(text) and not ends_sentence and n <= 20:
        cta = True
    media = bool(_DURATION.search(text)) and n <= 15 and not list_item
    return Line(text, words, prose, cta, label, share_bar, strong, boilerplate, media,
                list_item, urlish)


def _key(text: str) -> str:
    return " ".join(_WORD.findall(text.casefold()))


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
    if repeated and not line.prose and not in_list:
        return "repeated non-prose line"
    return None


#: A run of this many plain non-prose lines at an edge is a list (tour dates,
#: a table, ingredients), not chrome: only shorter runs are trimmed.
_MAX_EDGE_RUN = 2
#: Trim short runs of plain non-prose lines at the start too (datelines and
#: kickers sometimes go with them; measured within noise either way).
WEAK_START = True


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
    keys = [_key(line.text) for line in lines]
    counts = Counter(k for k in keys if k)
    title_key = _key(title) if title else ""
    site = set(site_lines)
    removed: list[tuple[str, str]] = []
    keep = [True] * len(lines)
    # A list item with a list item beside it is part of a list.
    in_list = [
        line.list_item and (
            (i > 0 and lines[i - 1].list_item) or (i + 1 < len(lines) and lines[i + 1].list_item)
        )
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
    for at_end, order in ((True, list(range(len(lines) - 1, -1, -1))),
                          (False, list(range(len(lines))))):
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
                if run <= _MAX_EDGE_RUN:
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


def looks_like_headline(line: str) -> bool:
    """A short line that does not end like a sentence and is not chrome."""
    f = _features(line)
    if not 2 <= f.n <= 25 or len(line) > 200:
        return False
    if line.rstrip("\"'”’»)").endswith((".", ":", ";", ",")):
        return False
    return _strong_reason(f, False) is None and not f.boilerplate


_CLAUSE = re.compile(r"[,;:–—]\s|\s-\s")


def derive_title(text: str, max_words: int = 14) -> str:
    """A title from the lead: its first sentence, cut at a clause if long."""
    first = normalize_text(text).split("\n", 1)[0] if text.strip() else ""
    m = re.search(r"(?<=[.!?])\s+(?=[A-Z\"“‘'])", first)
    sentence = first[: m.start()] if m else first
    sentence = sentence.rstrip(" .")
    words = sentence.split()
    if len(words) <= max_words:
        return sentence
    for cut in _CLAUSE.finditer(sentence):
        head = sentence[: cut.start()]
        if 6 <= len(head.split()) <= max_words + 4:
            return head.rstrip(" ,;:–—-")
    return " ".join(words[:max_words]).rstrip(",;:") + "…"
