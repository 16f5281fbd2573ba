"""What an incoming article is: the dedup decision, from plain facts.

Pure: no Scrapy, no SQLite. The writer (:meth:`crawler.storage.corpus.Corpus.add_article`)
looks the facts up (the stored article at the same URL, the copies of the text
found by hash and by sketch, stored or waiting in the batch), asks the two
functions here, and applies the :class:`Decision` through its pending rows
(:class:`crawler.storage.pending.Pending`).

Two questions, asked in this order, because each needs lookups of its own and
the second (the near-duplicate search) is the writer's most expensive step:

1. :func:`by_url`: is the URL known already (an article waiting in the batch or
   stored, with the same text or a changed one, or a recorded duplicate)? A
   page fetched from another address of a stored article (an AMP page, a
   print view, tracking parameters: the fetched URL differs, the canonical URL
   is the article's) is no new version of it: the article's own address (its
   canonical URL) is the copy its text comes from whenever it is fetched
   (:func:`address_rank`), and a variant's text replaces no other text.
2. :func:`by_text`, for a new URL: is the text a copy of an article kept
   already (``exact``: the same content hash; ``near``: a sketch match)? The
   earliest published copy is the one kept: an incoming article published
   strictly earlier than the copy found replaces it, and takes over its story.
   :func:`wants_near` says whether the near-duplicate search can change the
   answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


def _when(published: str | None) -> datetime | None:
    if not published:
        return None
    try:
        value = datetime.fromisoformat(published.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def published_earlier(a: str | None, b: str | None) -> bool:
    """Is ``a`` a strictly earlier publication time than ``b`` (both known)?"""
    wa, wb = _when(a), _when(b)
    return wa is not None and wb is not None and wa < wb


@dataclass(frozen=True)
class Copy:
    """An article with the incoming text (``exact``) or nearly (``near``): stored
    (``article_id``) or waiting in the batch (``url``)."""

    similarity: float
    article_id: int | None = None
    url: str | None = None
    published: str | None = None


@dataclass(frozen=True)
class Decision:
    """What the incoming article is.

    ``status``: ``known`` (nothing to write), ``updated`` (a changed text of the
    stored ``article_id``), ``stored`` (a new article) or ``duplicate`` (of
    ``kept``, ``kind`` exact or near).
    """

    status: str
    #: known or updated: the stored article at this URL, if any
    article_id: int | None = None
    #: known: the kind of duplicate this URL is (waiting in the batch), or
    #: ``duplicate`` for a recorded one; duplicate: exact or near
    kind: str | None = None
    #: known: the address it was fetched from may be another address of the article
    variant: bool = False
    #: duplicate: the copy kept
    kept: Copy | None = None
    #: stored: the copies it replaces, being published earlier, in the order found
    #: (each becomes a duplicate of it of that kind: exact, then near)
    replaces: tuple[tuple[str, Copy], ...] = ()
    #: duplicate (near): the exact copy it replaced first, before the near copy
    #: published earlier was found; that replacement is undone
    undo: Copy | None = None
    #: updated: the replaced text is kept as a version (not when it was the text
    #: of another address of the article, and the two are near copies)
    version: bool = True


def address_rank(url: str, fetched: str | None) -> tuple[int, str]:
    """How good a copy of the article at ``url`` the page fetched from ``fetched``
    is (lower is better): the canonical address itself first, then the other
    addresses in a stable order. The text of the best address fetched is the
    stored one, whatever the order the addresses were fetched in."""
    fetched = fetched or url
    return (0 if fetched == url else 1, fetched)


def address(
    url: str,
    fetched: str,
    stored_fetched: str | None,
    *,
    near_same: bool,
    published: str | None,
    stored_published: str | None,
    content_hash: str | None = None,
    stored_hash: str | None = None,
) -> str:
    """How a changed text of the stored article at ``url`` (fetched from
    ``stored_fetched``), fetched now from ``fetched``, relates to it (for
    :func:`by_url`): ``same``, its own address again: a new version;
    ``better`` or ``other``, another address with a near copy of its text
    (``near_same``): a variant, whose text replaces the stored one, with no
    version, only from a better address (:func:`address_rank`); ``newer`` or
    ``older``, another address with a text that is no near copy of it: the
    article changed (a version) when its text ranks above the stored one,
    else an older text, which changes nothing.

    The ranking is a total order, so that the text kept of several is the
    same in any arrival order: a dated text above an undated one, then the
    later publication time, then the article's own address above the others,
    then (``content_hash``, ``stored_hash`` given) the lower content hash, so
    that the names of the other addresses (a folder's file names) do not
    decide; without the hashes, the better address."""
    if fetched == (stored_fetched or url):
        return "same"
    better = address_rank(url, fetched) < address_rank(url, stored_fetched)
    if near_same:
        return "better" if better else "other"
    new, old = _when(published), _when(stored_published)
    if (new is None) != (old is None):
        return "newer" if new is not None else "older"
    if new is not None and old is not None and new != old:
        return "newer" if new > old else "older"
    own, stored_own = fetched == url, (stored_fetched or url) == url
    if own != stored_own:
        return "newer" if own else "older"
    if content_hash and stored_hash and content_hash != stored_hash:
        return "newer" if content_hash < stored_hash else "older"
    return "newer" if better else "older"


def by_url(
    content_hash: str,
    *,
    waiting: bool = False,
    waiting_duplicate: str | None = None,
    stored: tuple[int, str] | None = None,
    recorded_duplicate: bool = False,
    duplicate_of: int | None = None,
    address: str = "same",
) -> Decision | None:
    """What the URL says, or None for a new URL (then ask :func:`by_text`).

    ``waiting``: an article waits in the batch at this URL; ``waiting_duplicate``:
    the kind of the duplicate waiting at this URL, if one does; ``stored``: (id,
    content hash) of the stored article at this URL; ``recorded_duplicate``: the
    URL is a stored duplicate, of ``duplicate_of``. ``address``: what the
    address the page was fetched from says (:func:`address`)."""
    if waiting:
        return Decision("known", variant=True)
    if waiting_duplicate is not None:
        return Decision("known", kind=waiting_duplicate)
    if stored is not None:
        article_id, stored_hash = stored
        if stored_hash == content_hash or address == "other":
            # (another address's text: a variant, not a change of the article)
            return Decision("known", article_id, variant=True)
        if address == "older":
            return Decision("known", article_id)
        return Decision("updated", article_id, version=address != "better")
    if recorded_duplicate:
        return Decision("known", duplicate_of, kind="duplicate")
    return None


def wants_near(published: str | None, exact: Copy | None) -> bool:
    """Can a near copy change :func:`by_text`'s answer? Not when the text is an
    exact copy of an article published as early or earlier (or undated)."""
    return exact is None or published_earlier(published, exact.published)


def by_text(published: str | None, exact: Copy | None, near: Copy | None) -> Decision:
    """A new URL: a duplicate of the copy kept, or stored (replacing later copies).

    ``exact``: the kept article with the same content hash, if any (not one
    already being replaced in this batch); ``near``: the closest near copy among
    the other kept articles (looked up only when :func:`wants_near`)."""
    replaces: list[tuple[str, Copy]] = []
    if exact is not None:
        if not published_earlier(published, exact.published):
            return Decision("duplicate", kind="exact", kept=exact)
        replaces.append(("exact", exact))
    if near is not None:
        if not published_earlier(published, near.published):
            return Decision("duplicate", kind="near", kept=near, undo=exact)
        replaces.append(("near", near))
    return Decision("stored", replaces=tuple(replaces))


@dataclass
class Outcome:
    """What :meth:`crawler.storage.corpus.Corpus.add_article` decided (the kept
    article, the duplicate's kind): what the crawl counts in its stats."""

    status: str  # stored, updated, known, duplicate
    article_id: int | None = None  # the kept article, when known already
    kind: str | None = None  # for duplicates: url, exact or near
    similarity: float | None = None
    #: for a stored article: the kinds (exact, near) of the stored copies it replaced
    #: as the kept article, being published earlier (each is a duplicate of it now) ...
    replaced: tuple[str, ...] = ()
    #: ... and how many of those this crawl had counted as stored or updated
    replaced_in_crawl: int = 0
