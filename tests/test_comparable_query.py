"""Query building, windows and search URLs of the ``comparable`` spider (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

from crawler.listings import search as query


def test_a_name_at_a_sentence_start_keeps_its_first_word():
    text = (
        "Peter Capaldi will play the Doctor. The BBC chose him. Peter Capaldi, 55, "
        "said he was thrilled. Fans of Peter Capaldi cheered."
    )
    assert query.names_of(text)["Peter Capaldi"] == 3
    assert '"Peter Capaldi"' in query.search_query("New Doctor named", text).text()


def test_a_capitalised_common_word_at_a_sentence_start_is_not_part_of_the_name():
    text = "Police Chief Ann Lee spoke. The police said Chief Ann Lee had left."
    names = query.names_of(text)
    assert "Police Chief Ann Lee" not in names
    assert names["Chief Ann Lee"] == 2
    assert "The Police" not in query.names_of("The Police said nothing.")


def test_terms_are_stemmed_like_names_and_not_repeated():
    text = (
        "Warren Jeffs was convicted in Texas. Texas jurors heard from Jeffs. The Texas court "
        "sentenced Warren Jeffs, and the followers of Jeffs wept in Texas."
    )
    q = query.search_query(None, text, max_terms=4)
    folded = [query._fold(t) for t in q.terms]
    assert q.names == ["Warren Jeffs"]
    assert len(folded) == len(set(folded))
    assert "jeff" not in folded and "Jeffs" not in q.terms


def test_short_and_mixed_case_product_names_are_kept():
    text = (
        "BlackBerry opened registration for the Q10 on Monday. The Q10 has a keyboard, "
        "BlackBerry said, and registration was actually slow. The BlackBerry Q10 ships soon."
    )
    q = query.search_query(None, text)
    words = q.text()
    assert "BlackBerry" in words and "Q10" in words


def test_a_repeated_number_may_be_a_term_but_not_a_year():
    text = (
        "A 6.1 magnitude quake hit the coast in 2008. The 6.1 quake cut power; in 2008 "
        "the same coast had shaken. Rescuers searched homes near the coast."
    )
    q = query.search_query(None, text, max_terms=4)
    assert "6.1" in q.terms and "2008" not in q.text()


def test_punctuation_is_dropped_from_terms():
    text = (
        "Peterson's lawyer spoke. Peterson's trial opened; Peterson's family came. "
        "The lawyer for Peterson asked the jury to wait."
    )
    q = query.search_query(None, text)
    assert all(t.replace("-", "").replace(".", "").isalnum() for t in q.terms)
    assert "Peterson" in q.terms


def test_only_a_stated_date_centres_a_window():
    today = datetime(2026, 1, 1, tzinfo=UTC)
    start, end = query.window("2011-11-02T10:00:00Z", 3, today)
    assert (start.day, end.day) == (30, 5)
    assert query.window(None, 3, today) is None
    assert query.window("2005-01-01", 3, today) is None  # a bare year
    assert query.window("2011-11-02", 3, today, guessed=True) is None


def test_search_urls_without_a_window_leave_the_date_parts_out():
    q = query.Query(["Ned Price"], ["Iran"])
    gdelt, rss = query.search_urls(list(query.DEFAULT_TEMPLATES), q)
    assert "startdatetime" not in gdelt and "enddatetime" not in gdelt and "query=" in gdelt
    assert "after:" not in rss and "before:" not in rss and "q=%22Ned+Price%22+Iran" in rss
    start = datetime(2022, 12, 6, tzinfo=UTC)
    dated = query.search_urls(list(query.DEFAULT_TEMPLATES), q, start, start)
    assert "startdatetime=20221206000000" in dated[0] and "after:2022-12-06" in dated[1]


def test_refined_query_uses_words_the_hits_titles_share():
    first = query.Query(["Ned Price"], ["Iran", "drones"])
    titles = ["Iran drones reach Russia", "Russia buys Iran drones", "Russia and Iran ties"]
    refined = query.refined_query(first, titles)
    assert refined.names == ["Ned Price"] and "Russia" in refined.terms
    assert query.refined_query(first, []) == query.Query(["Ned Price"], ["Iran", "drones"])


def test_a_weekday_is_not_part_of_a_name_and_a_name_inside_another_is_not_repeated():
    text = (
        "Fire damaged the Wasilla Bible Church Friday. The Wasilla Bible Church was empty. "
        "The Central Election Commission met; the Central Commission, as it is known, and "
        "the Central Election Commission counted votes."
    )
    q = query.search_query(None, text)
    assert query.names_of(text)["Wasilla Bible Church"] == 2
    assert set(q.names) == {"Wasilla Bible Church", "Central Election Commission"}
    assert "Friday" not in q.terms


def test_complementary_query_keeps_the_first_name_and_asks_for_the_rest():
    text = (
        "Mark Teixeira met the Boston Red Sox in Las Vegas. Scott Boras, the agent of Mark "
        "Teixeira, said the Boston Red Sox offered eight years. The Washington Nationals and "
        "the Baltimore Orioles offered less; Scott Boras called the Washington Nationals. "
        "The first baseman hit 33 homers and the offer tops the Angels' contract. Teixeira "
        "weighs the contract, the homers and the offer from Boston while Orioles fans wait."
    )
    first = query.search_query("Red Sox make offer to Teixeira", text)
    second = query.complementary_query("Red Sox make offer to Teixeira", text, first)
    assert second.names[0] == first.names[0] and len(second.names) > 1
    assert not set(second.names[1:]) & set(first.names)
    assert second.terms and not {t.lower() for t in second.terms} & {t.lower() for t in first.terms}
