from __future__ import annotations

import pytest

from crawler import stories

QUAKE_1 = (
    "A magnitude 6.1 earthquake struck Qeshm island in southern Iran on Sunday, "
    "destroying villages near Bandar Abbas and killing at least ten people."
)
QUAKE_2 = (
    "Rescuers searched the ruins of villages on Qeshm island after the earthquake near "
    "Bandar Abbas killed ten people, Iranian state television said."
)
BOXING = (
    "Wladimir Klitschko stopped Tony Thompson in the sixth round in Bern to keep his "
    "heavyweight title belts on Saturday night."
)


def doc(i: int, text: str, day: str | None = None) -> stories.Doc:
    return stories.Doc(i, stories.day_of(day), dict(stories.terms(None, text)))


def test_terms_fold_plurals_drop_stopwords_and_count_names():
    tf = stories.terms("Quake hits Qeshm", QUAKE_1)
    assert tf["village"] == 1 and "the" not in tf and "n:bandar abbas" in tf
    assert tf["qeshm"] == 2  # the title counts


def test_regroup_joins_coverage_and_separates_other_events():
    groups = stories.regroup([doc(1, QUAKE_1), doc(2, QUAKE_2), doc(3, BOXING)])
    assert groups[1] == groups[2] != groups[3]


def test_a_copy_a_year_later_is_another_story():
    groups = stories.regroup([doc(1, QUAKE_1, "2012-08-11"), doc(2, QUAKE_2, "2013-08-12")])
    assert groups[1] != groups[2]
    groups = stories.regroup([doc(1, QUAKE_1, "2012-08-11"), doc(2, QUAKE_2, "2012-08-12")])
    assert groups[1] == groups[2]


def test_grouping_is_deterministic():
    docs = [doc(i, t) for i, t in enumerate([QUAKE_1, BOXING, QUAKE_2] * 3)]
    assert stories.regroup(docs) == stories.regroup(docs)


def test_term_stats_round_trip():
    st = stories.TermStats()
    st.add(["qeshm", "village"])
    again = stories.TermStats.from_bytes(st.docs, st.to_bytes())
    assert again.idf("qeshm") == st.idf("qeshm") < again.idf("unseen")


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("He said: “The drones keep coming.”", 'he said, "the drones keep coming"', True),
        ("The drones keep coming.", "The drones keep flying.", False),
    ],
)
def test_sentence_keys_ignore_case_quotes_and_punctuation(a, b, same):
    assert (stories.sentence_key(a) == stories.sentence_key(b)) is same


def test_sentences_split_paragraphs_and_sentences():
    assert stories.sentences("One two three. Four five six!\nSeven eight.") == [
        "One two three.",
        "Four five six!",
        "Seven eight.",
    ]


@pytest.mark.parametrize(
    ("published", "guessed", "known"),
    [
        ("2012-08-11", False, True),
        ("2012-08-11T09:30:00+02:00", False, True),
        ("2012-01-01T09:30:00Z", False, True),  # a real timestamp on January 1st
        ("2001-01-01", False, False),  # a bare year dressed up as a date
        ("2001-01-01T00:00:00Z", False, False),
        ("2012-08-11", True, False),  # read from the text by a heuristic
        ("not a date", False, False),
        (None, False, False),
    ],
)
def test_day_of_ignores_year_only_and_guessed_dates(published, guessed, known):
    assert (stories.day_of(published, guessed) is not None) is known


def test_a_year_only_date_does_not_cut_an_article_off_its_story():
    # "2001-01-01" is what a date guesser makes of a year found in the text
    groups = stories.regroup([doc(1, QUAKE_1, "2012-08-11"), doc(2, QUAKE_2, "2012-01-01")])
    assert groups[1] == groups[2]


def test_story_index_does_not_trust_a_guessed_date():
    from crawler.storage.storyindex import _day

    assert _day({"published": "2012-08-11"}) == stories.day_of("2012-08-11")
    assert _day({"published": "2012-08-11", "published_guessed": True}) is None
    assert _day({"published": "2001-01-01"}) is None


# Two events of one kind (two quakes on one island) and one event told six ways.
QEAST = [
    "A magnitude 5.6 earthquake shook Qeshm island near Dargahan town, injuring five people {}.",
    "Five people were hurt when the 5.6 quake hit Dargahan on Qeshm island, aftershocks {}.",
    "The Dargahan quake of magnitude 5.6 on Qeshm island injured five, local media said {}.",
]
QWEST = [
    "A 6.1 earthquake razed mud-brick villages on Qeshm island, killing ten near Bandar Abbas {}.",
    "Ten people died as the 6.1 quake flattened villages on Qeshm island by Bandar Abbas {}.",
    "Rescuers dug through villages flattened by the 6.1 Qeshm quake that killed ten {}.",
]
FILLER = ["harbour", "governor", "tents", "relief", "night", "schools"]


def _tf(text: str) -> dict:
    return dict(stories.terms(None, text))


def test_split_pass_parts_two_events_kept_together():
    texts = [t.format(FILLER[i]) for i, t in enumerate(QEAST + QWEST)]
    tfs = {i: _tf(t) for i, t in enumerate(texts)}
    stats = stories.TermStats()
    for tf in tfs.values():
        stats.add(tf)
    for other in (BOXING, "Parliament passed the budget bill on Tuesday after a long debate."):
        stats.add(_tf(other))
    out = stories.split_pass(dict.fromkeys(tfs, 7), tfs, stats)
    assert out[0] == out[1] == out[2] != out[3] == out[4] == out[5]
    assert 7 in out.values()  # the largest group (the earliest on ties) keeps the story


def test_split_pass_keeps_one_event_whole():
    texts = [t.format(FILLER[i]) for i, t in enumerate(QEAST + QEAST)]
    tfs = {i: _tf(t) for i, t in enumerate(texts)}
    stats = stories.TermStats()
    for tf in tfs.values():
        stats.add(tf)
    assert set(stories.split_pass(dict.fromkeys(tfs, 7), tfs, stats).values()) == {7}
