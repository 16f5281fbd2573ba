"""Reader comments are never article text: comment threads found by their shape.

Pure: no Scrapy. An extractor that cannot tell a comment section by its markup
(hashed class names, no "comment" id or class) returns it with the article: a
run of short posts, each a user name, a time, the post's text and a row of
action lines ("Reply", "Report", "Like") that recur after every post.
:func:`comment_thread` finds such a run in an extracted text (one paragraph per
line) by that recurrence rather than by its wording:

* an *action line* is a short line (at most :data:`MAX_ACTION_WORDS` words, not
  a sentence) either made of a few action words in several languages
  (:data:`ACTION_WORDS`) or learnt by the site's profile as chrome, being on
  most pages of the site or of a template (``site_lines``: any language, any
  wording);
* a row of action lines goes on over the short lines that recur as often;
* the posts are what lies between rows of action lines: at most
  :data:`MAX_POST_LINES` lines and :data:`MAX_POST_WORDS` words each, and with
  at least one short line that is not a sentence (the user or the time), so
  paragraphs between two recurring "Advertisement" lines are no thread;
* the thread is at least :data:`MIN_POSTS` posts: the first (as long as the
  others) before the first row of action lines, those between rows, and a
  last one after the last row when it ends the text (the extractor may cut
  its action lines); with the short heading before it ("What readers say",
  "12 comments"); and never more than :data:`MAX_SHARE` of the text's words.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection

from crawler.extract.cleaning import line_key

#: Action words of comment threads (en, de, fr, es, it, pt, nl, pl, sv).
ACTION_WORDS = frozenset(
    """reply replies report like likes dislike share flag quote respond answer permalink
    upvote downvote recommend recommended
    antworten antwort melden teilen zitieren
    répondre signaler partager citer
    responder denunciar reportar compartir citar
    rispondi segnala condividi cita
    reageren beantwoorden rapporteren melden delen
    responder denunciar partilhar
    odpowiedz zgłoś
    svara anmäl dela""".split()
)
MAX_ACTION_WORDS = 3
MAX_POST_LINES = 6
MAX_POST_WORDS = 150
#: a post's user or time line: at most this many words
MAX_SHORT_WORDS = 4
MIN_POSTS = 2
MAX_SHARE = 0.5


def _sentence(line: str) -> bool:
    return line.rstrip("\"'”’»)]").endswith((".", "!", "?", "…"))


def _short(line: str) -> bool:
    return len(line.split()) <= MAX_SHORT_WORDS and not _sentence(line)


def _post_like(lines: list[str]) -> bool:
    """Lines between two action runs that read like one post."""
    return (
        0 < len(lines) <= MAX_POST_LINES
        and sum(len(line.split()) for line in lines) <= MAX_POST_WORDS
        and any(_short(line) for line in lines)
    )


def comment_thread(lines: list[str], site_lines: Collection[str] = ()) -> tuple[int, int] | None:
    """The ``(start, end)`` slice of ``lines`` that is a comment thread, if any."""
    keys = [line_key(line) for line in lines]
    counts = Counter(keys)

    def action(i: int) -> bool:
        key = keys[i]
        words = key.split()
        return (
            0 < len(words) <= MAX_ACTION_WORDS
            and not _sentence(lines[i])
            and (key in site_lines or all(w in ACTION_WORDS for w in words))
        )

    def recurring(i: int) -> bool:
        """A short line recurring as often, in a row of action lines ("Report abuse")."""
        return counts[keys[i]] >= MIN_POSTS and _short(lines[i])

    runs: list[tuple[int, int]] = []
    i = 0
    while i < len(lines):
        if action(i):
            j = i
            while j < len(lines) and (action(j) or recurring(j)):
                j += 1
            runs.append((i, j))
            i = j
        else:
            i += 1
    # chains of runs with one post between each two; the longest (the last of equals)
    best: list[tuple[int, int]] = []
    chain: list[tuple[int, int]] = []
    for run in runs:
        if chain and _post_like(lines[chain[-1][1] : run[0]]):
            chain.append(run)
        else:
            chain = [run]
        if len(chain) >= len(best):
            best = list(chain)
    if not best:
        return None
    gaps = sorted(b[0] - a[1] for a, b in zip(best, best[1:], strict=False))
    end = best[-1][1]
    # a last post (or "Load more") after the last action lines, ending the text
    tail = len(lines) - end if end < len(lines) and _post_like(lines[end:]) else 0
    first = best[0][0]
    length = gaps[len(gaps) // 2] if gaps else tail
    while length and not _post_like(lines[max(0, first - length) : first]):
        length -= 1
    if (length > 0) + len(gaps) + (tail > 0) < MIN_POSTS:
        return None
    start = max(0, first - length)
    if start > 0 and _short(lines[start - 1]):
        start -= 1  # the thread's heading
    end += tail
    words = [len(line.split()) for line in lines]
    if sum(words[start:end]) > MAX_SHARE * sum(words):
        return None
    return start, end


def without_comment_threads(text: str, site_lines: Collection[str] = ()) -> str:
    """``text`` without its comment thread (:func:`comment_thread`); the same
    text when it has none."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    found = comment_thread(lines, site_lines)
    if found is None:
        return text
    start, end = found
    return "\n".join(lines[:start] + lines[end:])
