"""Page metadata from the page's own markup: Open Graph, ``article:*`` and other
``<meta>`` tags, JSON-LD ``NewsArticle``, ``<link rel="canonical">``, ``<html lang>``,
and a visible byline when the markup names no author.

Pure: no Scrapy. More exact than trafilatura's guesses (full timestamps, the
publisher's own site name); :mod:`crawler.extract.maintext` falls back to
those only for what the markup lacks.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any


def _norm(text: str) -> str:
    return " ".join(text.split())


@dataclass
class Extracted:
    text: str = ""
    title: str | None = None
    author: str | None = None
    published: str | None = None
    site: str | None = None
    language: str | None = None
    description: str | None = None
    canonical_url: str | None = None
    page_type: str | None = None
    #: fields filled by trafilatura's heuristics rather than the page's own
    #: markup: a feed's or sitemap's metadata is better than these guesses.
    guessed: set[str] = field(default_factory=set)


#: schema.org ``@type`` values (lowercased) of an article: the one set, used by
#: the metadata here and by the page-type decision (:mod:`crawler.extract.pagetype`).
ARTICLE_TYPES = frozenset(
    {
        "article",
        "newsarticle",
        "reportagenewsarticle",
        "analysisnewsarticle",
        "opinionnewsarticle",
        "blogposting",
        "liveblogposting",
        "reviewnewsarticle",
        "backgroundnewsarticle",
        "report",
        "scholarlyarticle",
        "techarticle",
        "posting",
    }
)


_META_ATTRS = ("property", "name", "itemprop")


def _meta_index(tree: Any) -> dict[tuple[str, str], str]:
    """(attribute, name) -> the first non-empty ``content`` of a ``<meta>`` with
    that ``property``, ``name`` or ``itemprop``, in document order."""
    index: dict[tuple[str, str], str] = {}
    for el in tree.iter("meta"):
        content = el.get("content")
        if content is None:
            continue
        value = " ".join(content.split())
        if not value:
            continue
        for attr in _META_ATTRS:
            name = el.get(attr)
            if name is not None:
                index.setdefault((attr, name), value)
    return index


def _meta(tree: Any, *names: str, index: dict[tuple[str, str], str] | None = None) -> str | None:
    """The content of the first of ``names`` the page's ``<meta>`` tags give (each
    name looked up as property, then name, then itemprop). ``index``: the
    page's :func:`_meta_index`, to read the tags once for many lookups."""
    if index is None:
        index = _meta_index(tree)
    for name in names:
        for attr in _META_ATTRS:
            value = index.get((attr, name))
            if value:
                return value
    return None


def jsonld_objects(tree: Any) -> list[dict[str, Any]]:
    """Every JSON-LD object of the page, ``@graph`` members and lists flattened."""
    out: list[dict[str, Any]] = []
    for script in tree.xpath('//script[@type="application/ld+json"]/text()'):
        try:
            data = json.loads(script)
        except (ValueError, RecursionError):
            continue
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                if "@graph" in item:
                    stack.append(item["@graph"])
                out.append(item)
    return out


def _types(obj: dict[str, Any]) -> set[str]:
    t = obj.get("@type", [])
    if isinstance(t, str):
        t = [t]
    return {str(x).lower() for x in t}


def _name(value: Any) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, dict):
        return _name(value.get("name"))
    if isinstance(value, list):
        names = [n for n in (_name(v) for v in value) if n]
        return ", ".join(dict.fromkeys(names)) or None
    return None


def _jsonld_article(tree: Any) -> dict[str, Any]:
    for obj in jsonld_objects(tree):
        if _types(obj) & ARTICLE_TYPES:
            return obj
    return {}


_SUFFIX = re.compile(r"\s+[|–—-]\s+[^|–—-]{2,60}$")


def _strip_site_suffix(title: str, site: str | None) -> str:
    """'Headline | Site' -> 'Headline'."""
    if site and title.endswith(site):
        stripped = title[: -len(site)].rstrip(" |–—-:·")
        if stripped:
            return stripped
    m = _SUFFIX.search(title)
    if m and len(title[: m.start()].split()) >= 3:
        return title[: m.start()]
    return title


def page_metadata(tree: Any) -> Extracted:
    """Metadata from the page's markup alone."""
    metas = _meta_index(tree)

    def meta(*names: str) -> str | None:
        return _meta(tree, *names, index=metas)

    ld = _jsonld_article(tree)
    site = meta("og:site_name", "application-name") or _name(ld.get("publisher"))
    title = (
        _name(ld.get("headline"))
        or meta("og:title", "twitter:title", "headline")
        or (" ".join(tree.findtext(".//title", "").split()) or None)
    )
    if title:
        title = _strip_site_suffix(title, site)
    author = _name(ld.get("author")) or meta(
        "author", "article:author", "byl", "dc.creator", "parsely-author", "sailthru.author"
    )
    if author and author.startswith(("http://", "https://")):
        author = None
    if author:
        author = re.sub(r"^by\s+", "", author, flags=re.IGNORECASE)
    published = _name(ld.get("datePublished")) or meta(
        "article:published_time",
        "datePublished",
        "pubdate",
        "publishdate",
        "date",
        "dc.date",
        "dcterms.created",
        "sailthru.date",
        "parsely-pub-date",
    )
    canonical = None
    for href in tree.xpath('//link[@rel="canonical"]/@href'):
        if href.strip():
            canonical = href.strip()
            break
    lang = None
    for value in tree.xpath("/html/@lang") + tree.xpath("/html/@xml:lang"):
        if value.strip():
            lang = value.strip()
            break
    lang = lang or meta("og:locale", "language", "content-language")
    if lang:
        lang = lang.replace("_", "-").split("-")[0].lower() or None
    page_type = meta("og:type")
    if not page_type and ld:
        page_type = "article"
    return Extracted(
        title=title,
        author=author,
        published=published,
        site=site,
        language=lang,
        description=meta("og:description", "description", "twitter:description"),
        canonical_url=canonical,
        page_type=page_type,
    )


# --- visible byline -----------------------------------------------------------------

_BYLINE = re.compile(r"^(?:by|von|por|par|di|door)\s+(?P<name>.+?)\s*$", re.IGNORECASE)
_NAME_PARTICLES = {
    "de",
    "da",
    "del",
    "della",
    "di",
    "van",
    "von",
    "der",
    "den",
    "la",
    "le",
    "du",
    "dos",
    "das",
    "bin",
    "al",
    "el",
    "y",
    "and",
    "und",
    "e",
    "et",
}
_AUTHOR_HREF = re.compile(
    r"/(?:authors?|autor(?:es|en)?|auteurs?|autori|profile|people|staff|"
    r"journalists?|byline)/",
    re.IGNORECASE,
)


def _person_name(text: str) -> str | None:
    """``text`` when it reads like a person's name (2-6 capitalised words)."""
    text = " ".join(text.split()).strip(" ,|·-–—")
    words = text.split()
    if not 2 <= len(words) <= 6 or len(text) > 60:
        return None
    for i, word in enumerate(words):
        if word.lower() in _NAME_PARTICLES and 0 < i < len(words) - 1:
            continue
        if not (word[0].isupper() and all(c.isalpha() or c in "'’.-" for c in word)):
            return None
    return text


def byline_author(tree: Any) -> str | None:
    """The author named by a visible byline ("By Jane Doe") or author link.

    For pages whose markup names no author (no meta tag, no JSON-LD): a
    ``rel="author"`` or ``itemprop="author"`` element, a short element whose
    whole text is "By <Name>" (also Von/Por/Par/Di/Door), or a link to an
    author page whose text is a name; the first one in document order.
    """
    body = tree.find("body")
    if body is None:
        return None
    for el in body.xpath('.//*[@rel="author" or @itemprop="author"]'):
        name = _person_name(_BYLINE.sub(r"\g<name>", _norm(el.text_content() or "")))
        if name:
            return name
    for el in body.iter("div", "span", "p", "address", "li", "small", "strong", "em", "a"):
        text = _norm(el.text_content() or "")
        if len(text) > 80:
            continue
        m = _BYLINE.match(text)
        name = _person_name(m.group("name")) if m else None
        if name is None and el.tag == "a" and _AUTHOR_HREF.search(el.get("href") or ""):
            name = _person_name(text)
        if name:
            return name
    return None
