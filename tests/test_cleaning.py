"""The line cleaner: chrome goes, short real paragraphs stay, titles."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from crawler.extract.cleaning import (
    Cleaned,
    clean_text,
    derive_title,
    line_key,
    looks_like_headline,
    normalize_text,
)
from crawler.extract.siteprofile import SiteProfile, apply_profile, learn_profile

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def _seed(prefix: str) -> str:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return path.read_text(encoding="utf-8")


def _paragraphs(text: str) -> list[str]:
    return [line for line in normalize_text(text).split("\n") if line]


# --- the two seed files -----------------------------------------------------------


def test_seed_000_loses_share_line_keeps_first_and_last_paragraph():
    raw = _seed("000")
    paras = _paragraphs(raw)
    out = clean_text(raw)
    assert isinstance(out, Cleaned)
    lines = out.text.split("\n")
    assert "Share:" not in lines
    assert not any(line.strip() == "Share:" for line in lines)
    # first real paragraph (after the headline) and last real paragraph stay
    assert paras[1] in lines
    last_real = [p for p in paras if p != "Share:"][-1]
    assert last_real in lines
    assert lines[-1] == last_real
    assert ("Share:", "call to action") in out.removed or any(t == "Share:" for t, _ in out.removed)


def test_seed_004_loses_trailing_chrome_keeps_first_and_last_paragraph():
    raw = _seed("004")
    out = clean_text(raw)
    lines = out.text.split("\n")
    for chrome in (
        "G4 Protest Special - Evening (12\\')",
        "Talk Show",
        "Share your story",
        "Send your Videos and Photos to us",
    ):
        assert chrome not in lines, chrome
    paras = _paragraphs(raw)
    assert lines[0] == paras[0]
    assert lines[-1].startswith("IAEA")
    # every prose paragraph of the article is kept
    assert len(lines) == len(paras) - 5


# --- chrome lines, worded differently from the seeds -------------------------------

BODY_START = (
    "The city council voted on Tuesday to extend the tram line to the airport, "
    "a project that has been debated for more than a decade."
)
BODY_END = (
    "Construction is expected to begin next spring and to last about three years, officials said."
)

CHROME_AT_END = [
    "Share this:",
    "Share on Facebook Share on Twitter Email",
    "Facebook Twitter WhatsApp LinkedIn",
    "Follow us on Instagram",
    "Subscribe to our newsletter",
    "Sign up for our daily briefing",
    "Download our app",
    "Tell us what you think",
    "Send us your photos",
    "Advertisement",
    "Story continues below advertisement",
    "Photo: Jane Doe/Reuters",
    "© 2024 Example Media",
    "Read more: Why the tram line was delayed again",
    "Related: Ten things to know about the airport expansion",
    "Evening Bulletin (25')",
    "We use cookies to improve your experience. By continuing you accept our cookie policy.",
    '[button link="https://example.org/tips" style="big"]Send a tip[/button]',
    "This gallery requires JavaScript.",
]


@pytest.mark.parametrize("chrome", CHROME_AT_END)
def test_chrome_line_at_the_end_goes(chrome):
    out = clean_text("\n".join([BODY_START, BODY_END, chrome]))
    assert out.text.split("\n") == [BODY_START, BODY_END]
    assert [t for t, _ in out.removed] == [chrome]


CHROME_ANYWHERE = [
    "Advertisement",
    "Share on Facebook Share on Twitter",
    "Subscribe to our newsletter",
    "Photo credit: City Archives",
    "Scroll to continue reading",
]


@pytest.mark.parametrize("chrome", CHROME_ANYWHERE)
def test_strong_chrome_goes_in_the_middle_too(chrome):
    out = clean_text("\n".join([BODY_START, chrome, BODY_END]))
    assert out.text.split("\n") == [BODY_START, BODY_END]


SHORT_REAL = [
    "He declined to comment.",
    "Nobody was hurt.",
    "The vote was 7-2.",
    "“We are ready,” she said.",
    "What happens next?",
    "Prices rose 3% in May.",
    "Copyright 2024 The Associated Press. All rights reserved.",
    # a space before the closing quote: French typography, or sloppy markup
    "Il a ajouté : « Nous reconstruirons la ville. »",
    'At this time, we are still trying to confirm the facts. "',
]


@pytest.mark.parametrize("line", SHORT_REAL)
def test_short_real_paragraph_at_the_end_stays(line):
    out = clean_text("\n".join([BODY_START, BODY_END, line]))
    assert out.text.split("\n")[-1] == line


MID_REAL = [
    "The plan",  # a sub-heading
    "What the council decided",
    "Here is what we know:",  # a label that introduces what follows
    "Share prices of the builder rose 4% after the vote.",
]


@pytest.mark.parametrize("line", MID_REAL)
def test_short_lines_in_the_middle_stay(line):
    out = clean_text("\n".join([BODY_START, line, BODY_END]))
    assert line in out.text.split("\n")


def test_list_at_the_end_is_content_not_chrome():
    dates = [
        "June 3 – Lyon, Halle Tony Garnier",
        "June 5 – Paris, Accor Arena",
        "June 8 – Lille, Zénith",
        "June 9 – Brussels, Forest National",
    ]
    out = clean_text("\n".join([BODY_START, BODY_END, "Tour dates:"] + dates))
    assert out.text.split("\n")[-4:] == dates


def test_imperative_list_items_stay():
    steps = [
        "- Preheat the oven to 200C.",
        "- Get your baking tray ready",
        "- Check the cake with a skewer after 20 minutes",
        "- Serve warm",
    ]
    out = clean_text("\n".join([BODY_START] + steps + [BODY_END]))
    for step in steps:
        assert step in out.text.split("\n")


def test_repeated_title_and_empty_lines():
    title = "Tram line to reach airport by 2028"
    out = clean_text("\n".join([title, BODY_START, "___", BODY_END]), title=title)
    assert out.text.split("\n") == [BODY_START, BODY_END]


def test_never_empties_an_article_on_shape_alone():
    text = "Tram line approved\nCouncil vote 7-2"
    assert clean_text(text).text  # falls back to lines without strong signals


# --- normalisation ------------------------------------------------------------------


def test_normalize_nfc_and_whitespace():
    decomposed = "Cafe\u0301  au\u00a0lait\u200b \r\n\r\n  second\tline  \u2028third"
    out = normalize_text(decomposed)
    assert out == "Café au lait\nsecond line\nthird"
    assert unicodedata.is_normalized("NFC", out)


def test_clean_text_output_is_normalized():
    out = clean_text("  A  line\u00a0that ends here.\n\n\nAnother\u200b one that ends too.  ")
    assert out.text == "A line that ends here.\nAnother one that ends too."


# --- titles ---------------------------------------------------------------------------


def test_looks_like_headline_on_seeds():
    assert looks_like_headline(_paragraphs(_seed("000"))[0])
    assert not looks_like_headline(_paragraphs(_seed("004"))[0])


def test_looks_like_headline_rejects_chrome_and_sentences():
    assert not looks_like_headline("Advertisement")
    assert not looks_like_headline("The council met on Tuesday.")
    assert not looks_like_headline("Share:")
    assert looks_like_headline("Council backs tram line to the airport")


def test_derive_title_for_seed_004():
    title = derive_title(_seed("004"))
    assert title == (
        "US State Department Thursday voiced concern over expanding ties between Russia and Iran"
    )
    assert len(title.split()) <= 18


def test_derive_title_short_and_long():
    assert derive_title("Rain is expected. More later.") == "Rain is expected"
    long = (
        "The regional transport authority announced on Monday, after months of talks "
        "with unions and local businesses, that the night buses will run again"
    )
    t = derive_title(long)
    assert len(t.split()) <= 18 and long.startswith(t.rstrip("…"))


# --- site profile ---------------------------------------------------------------------


def _page(i: int) -> str:
    return "\n".join(
        [
            f"Story number {i} starts with its own lead paragraph about topic {i}.",
            f"A second paragraph, unique to story {i}, explains the details.",
            "Get the best of our journalism in your inbox every morning.",
            "Our reporters are independent and supported by readers like you.",
        ]
    )


def test_learn_and_apply_site_profile():
    profile = learn_profile([_page(i) for i in range(5)], host="example.org", min_pages=3)
    assert profile.pages == 5
    assert line_key("Get the best of our journalism in your inbox every morning.") in profile.keys
    promo = "Our reporters are independent and supported by readers like you."
    assert line_key(promo) in profile.keys
    assert not any("story number" in k for k in profile.keys)
    # the prose promo lines survive the plain cleaner but not the profile
    new_page = _page(9)
    assert "Our reporters are independent" in clean_text(new_page).text
    cleaned = apply_profile(new_page, profile)
    assert cleaned.text.split("\n") == new_page.split("\n")[:2]
    assert SiteProfile.from_json(profile.to_json()) == profile


def test_site_profile_needs_enough_distinct_pages():
    same = _page(1)
    assert learn_profile([same, same, same, same]).keys == frozenset()
    assert learn_profile([_page(1), _page(2)], min_pages=3).keys == frozenset()
    assert apply_profile(_page(3), None).text == clean_text(_page(3)).text


# --- line categories: cross-references, disclaimers, syndication, social CTAs ----------
#
# Each table holds chrome in several wordings and languages (none of them taken
# from the fixtures) and real prose that uses the same words, so the categories
# are shown to work by the shape of the line, not by a list of phrases.

XREF_CHROME = [
    "Also read: Harbour board approves a new ferry timetable",
    "See also: How the tram budget grew by a third",
    "More on this story: Five questions about the airport expansion",
    "You may also like: The best walks along the old canal",
    "Mehr zum Thema: Wie die Stadt ihre Brücken prüft",
    "Auch interessant: Neue Buslinie fährt ab Dezember",
    "Lies auch: Das Freibad öffnet früher als geplant",
    "Lee también: El puerto amplía su horario de verano",
    "Más información: Cómo pedir la ayuda al alquiler",
    "Lire aussi : Le conseil municipal adopte son budget",
    "À lire aussi – La piscine rouvre ses portes lundi",
    "Leggi anche: Il comune rinvia i lavori in piazza",
    "Leia também: Prefeitura anuncia nova ciclovia no centro",
    "Lees ook: Gemeente stelt besluit over de brug uit",
    "Te puede interesar",
    "Mehr zum Thema",
    "Vedi anche",
    "Related stories",
]


@pytest.mark.parametrize("chrome", XREF_CHROME)
def test_cross_reference_goes_anywhere(chrome):
    out = clean_text("\n".join([BODY_START, chrome, BODY_END]))
    assert out.text.split("\n") == [BODY_START, BODY_END]
    assert out.removed == [(chrome, "cross-reference")]


DISCLAIMER_CHROME = [
    "Views expressed in this column are the writer's own.",
    "The opinions expressed in this article are solely those of the contributor.",
    "Opinions stated here do not necessarily reflect those of the Harbour Herald.",
    "The author's views do not necessarily represent the position of this newspaper.",
    "Views are personal.",
    "Las opiniones expresadas en este artículo son responsabilidad exclusiva de su autor.",
    "Les opinions exprimées dans cette tribune n'engagent que leur auteur.",
    "Le opinioni espresse in questo articolo sono dell'autore e non riflettono "
    "necessariamente quelle della testata.",
    "As opiniões expressas neste artigo são de responsabilidade do autor.",
    "Der Gastbeitrag gibt die Meinung der Verfasserin wieder, nicht die der Redaktion.",
    "De standpunten in dit artikel zijn die van de auteur.",
]


@pytest.mark.parametrize("chrome", DISCLAIMER_CHROME)
def test_editorial_disclaimer_goes_anywhere(chrome):
    out = clean_text("\n".join([BODY_START, chrome, BODY_END]))
    assert out.text.split("\n") == [BODY_START, BODY_END]
    assert out.removed == [(chrome, "editorial disclaimer")]


SYNDICATION_CHROME = [
    "This story was first published by the Coastline Times and is republished here "
    "with permission.",
    "A version of this article first appeared in our Sunday edition.",
    "Originally published in the Harbour Herald.",
    "Republished with permission from Northgate Weekly.",
    "This article was produced in partnership with the Riverside Reporting Project.",
    "Reporting by Ana Ruiz in Madrid; Editing by Tom Hale",
    "(Additional reporting by Karl Stein)",
    "Dieser Artikel erschien zuerst in der Wochenzeitung Rheinblick.",
    "Este artículo fue publicado originalmente en El Faro del Sur.",
    "Cet article a d'abord été publié sur le site de La Gazette du Lac.",
    "Questo articolo è stato pubblicato originariamente su Il Corriere del Lago.",
    "Dit artikel verscheen eerder in Het Stadsblad.",
]


@pytest.mark.parametrize("chrome", SYNDICATION_CHROME)
def test_syndication_note_goes_anywhere(chrome):
    out = clean_text("\n".join([BODY_START, chrome, BODY_END]))
    assert out.text.split("\n") == [BODY_START, BODY_END]
    assert out.removed == [(chrome, "syndication or production note")]


SOCIAL_CHROME = [
    "Like us on Facebook for more stories from the valley.",
    "Find the Harbour Herald on Instagram and TikTok.",
    "Join our community on Telegram",
    "Stay connected with us on LinkedIn.",
    "Get the latest headlines on WhatsApp.",
    "Síguenos en Twitter y Facebook",
    "Folgen Sie uns auf Instagram",
    "Suivez-nous sur Facebook et Instagram",
    "Seguici su Facebook",
    "Siga-nos no Instagram",
    "Volg ons op Facebook",
]


@pytest.mark.parametrize("chrome", SOCIAL_CHROME)
def test_call_to_follow_on_social_media_goes_anywhere(chrome):
    out = clean_text("\n".join([BODY_START, chrome, BODY_END]))
    assert out.text.split("\n") == [BODY_START, BODY_END]
    assert [t for t, _ in out.removed] == [chrome]


READER_CTA_AT_END = [
    "Have you been affected by the closures? Tell us your story.",
    "Got a news tip? Email us and our reporters will follow it up.",
    "Do you know more about this? Get in touch with the newsdesk.",
    "Write to us with your thoughts on this article.",
]


@pytest.mark.parametrize("chrome", READER_CTA_AT_END)
def test_reader_call_to_action_at_the_end_goes(chrome):
    out = clean_text("\n".join([BODY_START, BODY_END, chrome]))
    assert out.text.split("\n") == [BODY_START, BODY_END]


# Real paragraphs with the same words: they must stay, in the middle and at the end.
SIMILAR_PROSE = [
    # cross-reference words
    "More on this story will follow as the hearing continues.",
    "Related charges against the contractor were dropped last year, the court heard.",
    "Auch interessant ist die Frage, wer am Ende die Kosten trägt.",
    "Zum Thema Lärm: Die Stadt misst seit Januar an zwölf Stellen, und die Werte sind gesunken.",
    "Más información llegará en los próximos días, según el ayuntamiento.",
    "En savoir plus sur les causes de l'incendie prendra du temps, a prévenu le préfet.",
    # disclaimer words
    "The views expressed at Tuesday's meeting were overwhelmingly against the plan.",
    "Opinions expressed by residents reflect a deep frustration with the council.",
    "The author of the report said her views had not changed since the inquiry.",
    "Las opiniones expresadas por los vecinos fueron muy críticas con el proyecto.",
    "Les opinions exprimées lors du débat étaient partagées, selon l'auteur du rapport.",
    "Die Meinung des Autors der Studie wird von vielen Fachleuten nicht geteilt.",
    # syndication words
    "The photograph originally appeared in a 1962 edition of the paper, archivists said.",
    "The report was first published in March and has since been revised twice.",
    "This report was published by the health ministry on Tuesday.",
    "Reporting by local journalists helped expose the scandal, the committee found.",
    "Republished figures show the deficit was larger than first reported.",
    "Este artículo de la Constitución fue redactado originalmente en 1978.",
    "Der Artikel wurde ursprünglich 1949 ins Grundgesetz aufgenommen.",
    # social platform words
    "Like many small businesses, the bakery now takes most of its orders on Facebook.",
    "Follow-up questions about the Instagram account went unanswered.",
    "Find a way to keep teenagers safe on TikTok, the minister urged the platforms.",
    "Like its rivals, the station now streams every home match on YouTube.",
    # reader questions and imperatives in prose
    "Have you ever wondered why the buses run late? The council blames the roadworks.",
    "What happens next? Nobody at the town hall would say.",
]


@pytest.mark.parametrize("line", SIMILAR_PROSE)
def test_prose_with_similar_words_stays(line):
    middle = clean_text("\n".join([BODY_START, line, BODY_END]))
    assert line in middle.text.split("\n"), middle.removed
    end = clean_text("\n".join([BODY_START, BODY_END, line]))
    assert end.text.split("\n")[-1] == line, end.removed


def test_japanese_paragraphs_are_prose_and_chrome_around_them_goes():
    """A Japanese sentence ends in 。 and has no spaces: it is prose, not a short
    non-prose line at the edge, and the cleaner keeps every paragraph."""
    paras = [
        "市議会は火曜日、駅前の再開発計画を正式に承認した。",
        "計画では、老朽化した商店街の一部を取り壊し、跡地に広場を整備する。総事業費は約百二十億円の見通しだ。",
        "市は来月、住民説明会を開く。",
    ]
    text = "\n".join(["Facebook Twitter LINE", *paras, "Advertisement"])
    out = clean_text(text).text.split("\n")
    assert out == paras


def test_a_chinese_lead_sentence_is_not_taken_for_a_headline():
    assert not looks_like_headline("市政府周二宣布，新的地铁线路将于明年年底通车。")
    assert looks_like_headline("新地铁线路明年通车")
