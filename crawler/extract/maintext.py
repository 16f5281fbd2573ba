"""Main text out of an HTML page.

Pure: no Scrapy. trafilatura finds the main text (comments off); the page's
own markup (Open Graph, ``article:*`` meta tags, JSON-LD, canonical link,
``<html lang>``) gives the metadata (:mod:`crawler.extract.metadata`), with
trafilatura's guesses only for what the markup lacks.

Before trafilatura sees the tree, three generic steps run on it: optional
per-site rules (:mod:`crawler.extract.site_rules`), pruning of elements whose
class/id vocabulary says chrome (share, related, newsletter, promo, ad, cookie,
comment, hover card, disclaimer, author bio, "also read" boxes...), and joining
of an article body that the page split into same-class blocks around ad slots.
After it, paragraphs that precision mode dropped right beside kept ones are put
back. Two independent readings guard against a wrong or missing block: when
precision mode, even in trafilatura's full cascade, finds little of the prose
the page's ``<p>`` elements hold, trafilatura's balanced reading is taken if it
finds more; and when the markup yields next to no text, an article body kept in
a script's JSON state (:mod:`crawler.extract.hydration`) is read instead, if it
holds what the markup gave. When the markup names no author, a visible byline
("By Jane Doe") or author link supplies it.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator
from typing import Any

import lxml.html
import trafilatura
from lxml import etree
from trafilatura.metadata import extract_metadata
from trafilatura.utils import load_html

from crawler.extract.cleaning import is_prose
from crawler.extract.hydration import hydrated_body
from crawler.extract.language import count_words
from crawler.extract.metadata import Extracted, byline_author, jsonld_objects, page_metadata
from crawler.extract.site_rules import Rules, apply_site_rules

# Re-exported: the metadata functions lived here before the split.
__all__ = [
    "Extracted",
    "byline_author",
    "extract_html",
    "jsonld_objects",
    "merge_split_bodies",
    "page_metadata",
    "parse_html",
    "prune_chrome",
    "rescue_paragraphs",
]

logger = logging.getLogger(__name__)


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


#: trafilatura reads a tree it is given without changing it (2.3.1 copies its
#: input first; earlier releases pruned it in place), so one parsed and prepared
#: tree serves the fast reading, the full cascade and the balanced reading, and
#: is the page's tree afterwards. On an older trafilatura each reading gets a
#: tree of its own (:func:`_fresh`). ``tests/test_extract_speed.py`` checks it.
TREE_KEPT = _version(getattr(trafilatura, "__version__", "0")) >= (2, 3, 1)


class _JustextStoplist:
    """The words of every justext stoplist, in place of trafilatura's tuple of them.

    When trafilatura's cascade falls back to justext it passes ``JT_STOPLIST``, a
    tuple of the 154,000 words of all justext's stoplists, to
    ``justext.core.classify_paragraphs``, which looks its lower-cased frozenset up in
    an ``lru_cache`` keyed by that tuple: hashing the tuple costs about 7 ms on every
    such page, and the tuple and the frozenset hold about 34 MB in every cleaning
    worker. This object yields the same words (so justext builds the same frozenset,
    once) and hashes by identity; nothing else keeps the words.
    """

    def __iter__(self) -> Iterator[str]:
        from justext.utils import get_stoplist, get_stoplists

        for language in sorted(get_stoplists()):
            yield from get_stoplist(language)

    def __bool__(self) -> bool:
        return True


def _share_justext_stoplist() -> None:
    external: Any = sys.modules.get("trafilatura.external")
    if external is not None and isinstance(getattr(external, "JT_STOPLIST", False), tuple | None):
        external.JT_STOPLIST = _JustextStoplist()


_share_justext_stoplist()


def parse_html(html: str) -> Any | None:
    """The page as an lxml tree, parsed the way trafilatura parses it."""
    try:
        tree = load_html(html)
    except (etree.ParserError, ValueError, TypeError):
        tree = None
    if tree is None:
        try:
            tree = lxml.html.document_fromstring(html)
        except (etree.ParserError, ValueError):
            return None
    return tree


# --- DOM pruning before trafilatura -------------------------------------------
#
# Generic vocabulary every site uses for its chrome, matched against the parts
# of class and id tokens ("share-bar" -> share, bar; "relatedPostsTitle" ->
# related, posts, title). A part matches when it is one of these words or starts
# with one of the prefix words.
_CHROME_WORDS = (
    "share shares sharing sharebar sharetools social socials sociallinks related "
    "recirc recirculation newsletter newsletters promo promos promotion promoted "
    "advert adverts advertisement advertising ad ads adslot adunit dfp sponsor "
    "sponsored cookie cookies consent gdpr comment comments disqus tooltip tooltips "
    "popover popup hovercard rollover subscribe subscription signup outbrain "
    "taboola breadcrumb breadcrumbs trending mostpopular "
    # editorial boxes around an article: disclaimers, author blurbs, syndication notes
    "disclaimer disclaimers bio bios authorbio syndication syndicated"
).split()
_CHROME_PREFIXES = (
    "related",
    "share(?!d)",
    "social",
    "newsletter",
    "promo",
    "advert",
    "sponsor",
    "outbrain",
    "taboola",
    "rollover",
    "tooltip",
    "popover",
    "recirc",
    "mostpopular",
    "mostread",
    "disclaimer",
    "authorbio",
    # "related" in other languages (es/pt, it, nl)
    "relacionad",
    "correlat",
    "gerelateerd",
)
# A class/id token part ("share-bar" -> share, bar) that is one of the words,
# or (for the prefix words) starts one ("relatedPostsTitle", "sharebuttons").
_CHROME_ATTR = re.compile(
    r"(?:^|[\s_-])(?:(?:"
    + "|".join(_CHROME_WORDS)
    + r")(?=$|[\s_-])|(?:"
    + "|".join(_CHROME_PREFIXES)
    + r"))",
    re.IGNORECASE,
)
# "Read also" boxes named across token parts: also-read, read-also, lire-aussi,
# leggi-anche, lees-ook, leia-tambem, lee-tambien, lesen-auch.
_XREF_ATTR = re.compile(
    r"(?:^|[\s_-])(?:(?:also|aussi|anche|ook|tambem|tambien|auch)[_-]?(?:read|lire|leggi|lees|leia|"
    r"lee|lesen)|(?:read|lire|leggi|lees|leia|lee|lesen)[_-]?(?:also|aussi|anche|ook|tambem|"
    r"tambien|auch))(?=$|[\s_-])",
    re.IGNORECASE,
)
# Elements never pruned: the document itself.
_NEVER_PRUNE = {"html", "body", "main", "head"}


def _chrome_attr(value: str) -> bool:
    return bool(_CHROME_ATTR.search(value) or _XREF_ATTR.search(value))


def prune_chrome(tree: Any) -> int:
    """Remove elements whose class/id say they are chrome; returns how many.

    Safe by construction: an element holding a large share of the page's
    paragraph text (a ``<body class="has-related-posts">``, an article wrapper
    whose classes include ``url-breadcrumb``) is never removed, whatever its
    name says.
    """
    body = tree.find("body")
    if body is None:
        return 0
    total = _paragraph_chars(body)
    candidates = []
    seen: dict[str, bool] = {}  # pages repeat the same class strings many times
    for el in body.xpath(".//*[@class or @id]"):
        if el.tag in _NEVER_PRUNE:
            continue
        value = (el.get("class") or "") + " " + (el.get("id") or "")
        chrome = seen.get(value)
        if chrome is None:
            chrome = seen[value] = _chrome_attr(value)
        if chrome:
            candidates.append(el)
    removed = 0
    for el in candidates:
        if el.getparent() is None or not _attached(el, body):
            continue  # already gone with an ancestor
        if total and _paragraph_chars(el) > PRUNE_MAX_SHARE * total:
            continue
        el.drop_tree()  # keeps the tail text (the rest of a sentence)
        removed += 1
    return removed


PRUNE_MAX_SHARE = 0.3


def _paragraph_chars(el: Any) -> int:
    return sum(len(p.text_content() or "") for p in el.iter("p"))


def _attached(el: Any, root: Any) -> bool:
    for anc in el.iterancestors():
        if anc is root:
            return True
    return False


# --- article bodies split by ad slots ---------------------------------------------

_BODYISH = re.compile(r"body|content|article|story|entry|text|post", re.IGNORECASE)


def merge_split_bodies(tree: Any) -> int:
    """Join an article body that the page splits into several containers.

    Many sites cut the body into sibling blocks with the same class (an ad or
    a newsletter box between them); extractors then keep only the first
    block. When two to twelve elements share a tag and a body-like class,
    none inside another, and each holds paragraphs of prose, the later ones'
    children are moved into the first. Returns the number of blocks merged.
    """
    groups: dict[tuple[str, str], list[Any]] = {}
    for el in tree.iter("div", "section", "article"):
        cls = " ".join((el.get("class") or "").split())
        if cls and _BODYISH.search(cls):
            groups.setdefault((el.tag, cls), []).append(el)
    merged = 0
    for els in groups.values():
        if not 2 <= len(els) <= 12:
            continue
        if any(_is_ancestor(a, b) for a in els for b in els if a is not b):
            continue
        if not all(_prose_paragraphs(el) for el in els):
            continue
        first = els[0]
        for other in els[1:]:
            for child in list(other):
                first.append(child)
            other.drop_tree()
            merged += 1
    return merged


def _is_ancestor(a: Any, b: Any) -> bool:
    return any(anc is a for anc in b.iterancestors())


def _prose_paragraphs(el: Any) -> bool:
    """Direct ``<p>`` children with at least 25 words between them."""
    words = 0
    for child in el:
        if child.tag == "p":
            words += count_words(child.text_content() or "")
    return words >= 25


# --- paragraphs precision mode cut off at the ends ------------------------------

_PROSE_END = re.compile(r"[.!?…。！？][\"'”’»)\]」』）]*$")


def _norm(text: str) -> str:
    return " ".join(text.split())


def _prose_p(el: Any) -> str | None:
    """The text of a plain prose paragraph (no links-only or label lines)."""
    if el.tag != "p":
        return None
    text = _norm(el.text_content() or "")
    if count_words(text) < 4 or not _PROSE_END.search(text):
        return None
    link_chars = sum(len(_norm(a.text_content() or "")) for a in el.iter("a"))
    if link_chars > 0.5 * len(text):
        return None
    return text


_SKIP_SUBTREE = {
    "script",
    "style",
    "noscript",
    "iframe",
    "img",
    "svg",
    "picture",
    "video",
    "audio",
    "source",
    "button",
    "input",
    "form",
    "template",
}


# Page-level chrome: the search never walks into these (a site footer's
# "All rights reserved." reads like a sentence, but is not the article's).
_CHROME_TAGS = {"footer", "header", "nav", "aside"}
_CHROME_ROLES = {"contentinfo", "banner", "navigation", "complementary"}


class _Stop(Exception):
    pass


def _following_paragraphs(start: Any, have: set[str], limit: int) -> tuple[list[str], str | None]:
    """Prose ``<p>`` after ``start`` in document order, with nothing but
    empty wrappers and embeds (ad slots, video iframes) in between; and the
    text of the already-kept paragraph that ended the search, if one did."""
    found: list[str] = []
    stop: list[str] = []

    def visit(el: Any) -> None:
        if len(found) >= limit:
            raise _Stop
        if isinstance(el.tag, str) and (
            el.tag in _CHROME_TAGS or (el.get("role") or "").lower() in _CHROME_ROLES
        ):
            raise _Stop
        if isinstance(el.tag, str) and el.tag not in _SKIP_SUBTREE:
            if el.tag == "p":
                para = _prose_p(el)
                if para is not None and para in have:
                    stop.append(para)
                if para is None or para in have:
                    raise _Stop
                found.append(para)
            elif (el.text or "").strip():
                raise _Stop
            else:
                for child in el:
                    visit(child)
        if (el.tail or "").strip():
            raise _Stop

    node = start
    try:
        if (node.tail or "").strip():
            raise _Stop
        while node is not None and node.tag != "body":
            for sib in node.itersiblings():
                visit(sib)
            node = node.getparent()
            if node is not None and (node.tail or "").strip():
                raise _Stop
    except _Stop:
        pass
    return found, (stop[0] if stop else None)


def rescue_paragraphs(tree: Any, text: str, limit: int = 4) -> str:
    """Put back prose paragraphs that precision mode dropped beside kept ones.

    trafilatura's precision mode now and then drops a short paragraph of the
    article: the last one, or one that sits in its own wrapper between two
    ad slots. Each extracted line is found as a ``<p>`` element; up to
    ``limit`` ``<p>`` elements that follow it are added when they are prose (a
    sentence, not mostly link text), not already in the text, and nothing
    but empty wrappers and embeds (ad slots, video iframes) stands between.
    Any other text (a heading, a list, a box) stops the search. After the
    last line that is enough; between two kept lines the paragraphs must be
    sandwiched: the search has to end at the next kept line's paragraph.
    """
    lines = text.split("\n")
    body = tree.find("body")
    if not lines or not lines[0] or body is None:
        return text
    index: dict[str, Any] = {}
    for el in body.iter("p"):
        key = _norm(el.text_content() or "")
        if key:
            index[key] = el  # the last one with this text wins
    have = {_norm(x) for x in lines}
    out: list[str] = []
    added = 0
    for i, line in enumerate(lines):
        out.append(line)
        el = index.get(_norm(line))
        if el is None:
            continue
        found, stop = _following_paragraphs(el, have, limit)
        last = i == len(lines) - 1
        # Between two kept lines: only a paragraph sandwiched by them.
        if not last and stop != _norm(lines[i + 1]):
            continue
        for para in found:
            have.add(para)
        out.extend(found)
        added += len(found)
    return "\n".join(out) if added else text


# --- extraction --------------------------------------------------------------------


def _prepare(tree: Any, url: str | None, site_rules: Rules | None) -> None:
    if site_rules:
        apply_site_rules(tree, url, site_rules)
    if PRUNE:
        prune_chrome(tree)
    if MERGE:
        merge_split_bodies(tree)


def _prose_words(text: str) -> int:
    return sum(count_words(line) for line in text.split("\n") if is_prose(line))


def _more_prose(text: str, doc: Any) -> bool:
    """``text`` has sentences, and more words of them than ``doc``'s text."""
    found = _prose_words(text)
    return found > 0 and found > _prose_words((doc.text or "") if doc is not None else "")


def _fresh(html: str, url: str | None, site_rules: Rules | None) -> Any:
    """A newly parsed and prepared tree (for a trafilatura that changes the tree it
    reads: see :data:`TREE_KEPT`)."""
    tree = parse_html(html)
    _prepare(tree, url, site_rules)
    return tree


def _trafilatura(source: Any, url: str | None, *, fast: bool, precision: bool = True) -> Any:
    kw = {"fast": fast, **(TRAF_KW if precision else {})}
    return trafilatura.bare_extraction(
        source, url=url, include_comments=False, with_metadata=False, include_tables=True, **kw
    )


def _hydrated_text(html: str, url: str | None, text: str) -> str:
    """The body a script-rendered page keeps in its JSON state, when the markup
    gave next to nothing: read by trafilatura like any page, kept when it is
    longer than ``text`` and, unless ``text`` is too short to store anyway,
    holds what ``text`` found (agreement, not a swap)."""
    tree = parse_html(html)
    body = hydrated_body(tree) if tree is not None else None
    if not body:
        return text
    doc = _trafilatura(
        f"<html><body><article>{body}</article></body></html>", url, fast=False, precision=False
    )
    found = (doc.text or "") if doc is not None else ""
    if len(found) <= len(text):
        return text
    # Fewer words than a stored article needs: nothing to lose. More: the JSON
    # body must hold most of the lines the markup gave.
    have = [line for line in text.split("\n") if line.strip()]
    if len(text.split()) >= HYDRATION_AGREE_WORDS and (
        sum(line in found for line in have) < len(have) / 2
    ):
        return text
    return found


def extract_html(
    html: str, url: str | None = None, *, site_rules: Rules | None = None
) -> Extracted:
    """Main text (one paragraph per line) and metadata of an HTML page.

    The page is parsed once. Metadata comes from the page's own markup first;
    then chrome is pruned and split bodies are joined on the tree, and
    trafilatura (precision mode, comments off) extracts the text from it.
    trafilatura's slower metadata heuristics run only when the markup lacks
    a title or a date. ``site_rules`` ({host: {"prune": [...], "body": ...}},
    see :mod:`crawler.extract.site_rules`) are applied to the tree before anything else
    touches the text.
    """
    tree = parse_html(html)
    meta = page_metadata(tree) if tree is not None else Extracted()
    if tree is None:
        doc = _trafilatura(html, url, fast=False)
    else:
        _prepare(tree, url, site_rules)
        if ADAPTIVE:
            # trafilatura's fast path (its own extractor, no readability/justext
            # comparison) is right on most pages; when it comes back with little
            # text for the page, run the full cascade on a fresh tree.
            prose = _paragraph_chars(tree)
            doc = _trafilatura(tree, url, fast=True)
            got = len(doc.text or "") if doc is not None else 0
            if got < FALLBACK_MIN_CHARS or got < FALLBACK_SHARE * prose:
                if not TREE_KEPT:
                    tree = _fresh(html, url, site_rules)
                doc = _trafilatura(tree, url, fast=False)
                got = len(doc.text or "") if doc is not None else 0
                if got < FALLBACK_MIN_CHARS and got < FALLBACK_SHARE * prose:
                    # Precision mode, even in the full cascade, finds little of
                    # the page's prose: it disagrees with the page, so take
                    # trafilatura's balanced reading when that finds more prose
                    # (a list of links is not; the line cleaner still runs on it).
                    balanced = _trafilatura(
                        tree if TREE_KEPT else _fresh(html, url, site_rules),
                        url,
                        fast=False,
                        precision=False,
                    )
                    if balanced is not None and _more_prose(balanced.text or "", doc):
                        doc = balanced
        else:
            doc = _trafilatura(tree, url, fast=False)
    if doc is not None:
        meta.text = doc.text or ""
        if RESCUE and tree is not None and meta.text:
            meta.text = rescue_paragraphs(tree, meta.text)
    if HYDRATION and len(meta.text) < FALLBACK_MIN_CHARS:
        meta.text = _hydrated_text(html, url, meta.text)
    if tree is not None and not (meta.title and meta.published):
        try:
            found = extract_metadata(tree, default_url=url)
        except Exception:
            logger.debug("trafilatura metadata failed for %s", url, exc_info=True)
            found = None
        if found is not None:
            for name, value in (
                ("title", found.title),
                ("author", found.author),
                ("published", found.date),
                ("site", found.sitename),
                ("language", found.language),
                ("description", found.description),
            ):
                if value and not getattr(meta, name):
                    setattr(meta, name, value)
                    meta.guessed.add(name)
    if tree is not None and not meta.author:
        meta.author = byline_author(tree)
    return meta


# Switches for the steps above, so a bench run can measure each one. Leave-one-
# out on the dev split (91 pages), F1 with the step off -> all on (0.9753):
# PRUNE 0.9738, MERGE 0.9715, precision mode 0.9711, RESCUE 0.9740.
PRUNE = True
MERGE = True
RESCUE = True
#: read an article body kept only in a script's JSON (:mod:`crawler.extract.hydration`)
HYDRATION = True
#: above this many words, the markup's text must agree with the JSON body
HYDRATION_AGREE_WORDS = 25
TRAF_KW: dict[str, Any] = {"favor_precision": True}
#: trafilatura's fast path first; its full cascade (readability and justext
#: comparisons, about 40 % of its time) only when the fast text is shorter
#: than FALLBACK_MIN_CHARS characters or than FALLBACK_SHARE of the text in
#: the page's <p> elements. Same F1 on the dev split, 2.8 ms a page less.
ADAPTIVE = True
FALLBACK_MIN_CHARS = 500
FALLBACK_SHARE = 0.5
