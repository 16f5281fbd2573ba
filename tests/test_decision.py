"""The dedup decision (crawler.dedup.decision), from plain facts: no SQLite."""

from __future__ import annotations

import pytest

from crawler.dedup.decision import Copy, Decision, by_text, by_url, published_earlier, wants_near

H = "hash-of-the-incoming-text"

STORED_EXACT = Copy(1.0, article_id=7, published="2024-03-02T09:00:00Z")
WAITING_EXACT = Copy(1.0, url="https://b.test/copy", published="2024-03-02T09:00:00Z")
NEAR_EARLIER = Copy(0.91, article_id=3, published="2024-03-01T08:00:00Z")
NEAR_LATER = Copy(0.88, url="https://c.test/later", published="2024-03-05T12:00:00Z")
NEAR_UNDATED = Copy(0.95, article_id=4)


@pytest.mark.parametrize(
    "facts,expected",
    [
        # a new URL: ask by_text
        ({}, None),
        # waiting in the batch: known, and the fetched address may be a variant
        ({"waiting": True}, Decision("known", variant=True)),
        ({"waiting": True, "stored": (5, "other")}, Decision("known", variant=True)),
        ({"waiting_duplicate": "near"}, Decision("known", kind="near")),
        ({"waiting_duplicate": "url"}, Decision("known", kind="url")),
        # stored: the same text is known, another text an update
        ({"stored": (5, H)}, Decision("known", 5, variant=True)),
        ({"stored": (5, "other")}, Decision("updated", 5)),
        ({"stored": (5, "other"), "recorded_duplicate": True}, Decision("updated", 5)),
        # a recorded duplicate (its kept article may be gone)
        (
            {"recorded_duplicate": True, "duplicate_of": 9},
            Decision("known", 9, kind="duplicate"),
        ),
        ({"recorded_duplicate": True}, Decision("known", None, kind="duplicate")),
    ],
)
def test_what_the_url_says(facts, expected):
    assert by_url(H, **facts) == expected


@pytest.mark.parametrize(
    "published,exact,near,expected",
    [
        # nothing like it: a new article
        ("2024-03-02T10:00:00Z", None, None, Decision("stored")),
        (None, None, None, Decision("stored")),
        # an exact copy published as early or earlier, or a date to compare missing
        (
            "2024-03-02T10:00:00Z",
            STORED_EXACT,
            None,
            Decision("duplicate", kind="exact", kept=STORED_EXACT),
        ),
        (
            "2024-03-02T09:00:00Z",
            STORED_EXACT,
            None,
            Decision("duplicate", kind="exact", kept=STORED_EXACT),
        ),
        (None, WAITING_EXACT, None, Decision("duplicate", kind="exact", kept=WAITING_EXACT)),
        (
            "not a date",
            STORED_EXACT,
            None,
            Decision("duplicate", kind="exact", kept=STORED_EXACT),
        ),
        # an earlier publication replaces the exact copy (stored or waiting)
        (
            "2024-03-01T09:00:00Z",
            STORED_EXACT,
            None,
            Decision("stored", replaces=(("exact", STORED_EXACT),)),
        ),
        (
            "2024-03-01T09:00:00Z",
            WAITING_EXACT,
            None,
            Decision("stored", replaces=(("exact", WAITING_EXACT),)),
        ),
        # time zones count: 09:30+02:00 is 07:30Z, before 09:00Z
        (
            "2024-03-02T09:30:00+02:00",
            STORED_EXACT,
            None,
            Decision("stored", replaces=(("exact", STORED_EXACT),)),
        ),
        # near copies: a duplicate of an earlier (or as early, or undated) one ...
        (
            "2024-03-02T10:00:00Z",
            None,
            NEAR_EARLIER,
            Decision("duplicate", kind="near", kept=NEAR_EARLIER),
        ),
        (
            "2024-03-01T08:00:00Z",
            None,
            NEAR_EARLIER,
            Decision("duplicate", kind="near", kept=NEAR_EARLIER),
        ),
        (
            "2024-03-02T10:00:00Z",
            None,
            NEAR_UNDATED,
            Decision("duplicate", kind="near", kept=NEAR_UNDATED),
        ),
        # ... and the kept article in place of a later one
        (
            "2024-03-02T10:00:00Z",
            None,
            NEAR_LATER,
            Decision("stored", replaces=(("near", NEAR_LATER),)),
        ),
        # earlier than both its exact and its near copy: replaces both, exact first
        (
            "2024-03-01T09:00:00Z",
            STORED_EXACT,
            NEAR_LATER,
            Decision("stored", replaces=(("exact", STORED_EXACT), ("near", NEAR_LATER))),
        ),
        # earlier than its exact copy, but a near copy of an earlier article:
        # a duplicate of that one, and the exact copy's replacement is undone
        (
            "2024-03-01T09:00:00Z",
            STORED_EXACT,
            NEAR_EARLIER,
            Decision("duplicate", kind="near", kept=NEAR_EARLIER, undo=STORED_EXACT),
        ),
        (
            "2024-03-01T09:00:00Z",
            WAITING_EXACT,
            NEAR_EARLIER,
            Decision("duplicate", kind="near", kept=NEAR_EARLIER, undo=WAITING_EXACT),
        ),
        # a near copy passed along with an exact duplicate changes nothing
        (
            "2024-03-02T10:00:00Z",
            STORED_EXACT,
            NEAR_LATER,
            Decision("duplicate", kind="exact", kept=STORED_EXACT),
        ),
    ],
)
def test_what_the_text_says(published, exact, near, expected):
    assert by_text(published, exact, near) == expected


@pytest.mark.parametrize(
    "published,exact,wanted",
    [
        ("2024-03-02T10:00:00Z", None, True),
        (None, None, True),
        ("2024-03-01T09:00:00Z", STORED_EXACT, True),  # it may replace the exact copy
        ("2024-03-02T09:00:00Z", STORED_EXACT, False),  # an exact duplicate, whatever else
        (None, STORED_EXACT, False),
    ],
)
def test_the_near_search_only_when_it_can_change_the_answer(published, exact, wanted):
    assert wants_near(published, exact) is wanted
    if not wanted:  # (by_text then ignores any near copy)
        assert by_text(published, exact, NEAR_LATER) == by_text(published, exact, None)


@pytest.mark.parametrize(
    "a,b,earlier",
    [
        ("2024-03-01", "2024-03-02", True),
        ("2024-03-02", "2024-03-01", False),
        ("2024-03-01T10:00:00Z", "2024-03-01T10:00:00+00:00", False),
        ("2024-03-01T10:00:00", "2024-03-01T11:00:00Z", True),  # naive means UTC
        (None, "2024-03-01", False),
        ("2024-03-01", None, False),
        ("", "2024-03-01", False),
        ("yesterday", "2024-03-01", False),
    ],
)
def test_published_earlier(a, b, earlier):
    assert published_earlier(a, b) is earlier
