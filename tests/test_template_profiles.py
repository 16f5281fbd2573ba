"""Site profiles per template, and reader comments that are never article text.

Pure (no Scrapy): the template signature, per-template learning, the comment
thread finder, and a corpus that learns per template. All pages are written here.
"""

from __future__ import annotations

import random

from crawler.extract.cleaning import line_key
from crawler.extract.comments import comment_thread, without_comment_threads
from crawler.extract.processing import Options, process_page
from crawler.extract.siteprofile import (
    learn_profile,
    learn_template_profile,
    template_signature,
    without_lines,
)
from crawler.items import Page
from crawler.storage.corpus import Corpus
from tests.helpers import article

_RNG = random.Random(0)
VOCAB = sorted(
    {
        "".join(_RNG.choice("bcdfghklmnprstvz") + _RNG.choice("aeiou") for _ in range(3))
        for _ in range(4000)
    }
)


def prose(rng: random.Random, paragraphs: int = 6) -> list[str]:
    """Paragraphs of made-up words: no two articles alike."""
    return [
        " ".join(rng.choice(VOCAB) for _ in range(rng.randint(25, 40))).capitalize() + "."
        for _ in range(paragraphs)
    ]


# --- template signatures -------------------------------------------------------------


def hashed_page(paras: list[str], comments: list[tuple[str, str]], extra: str = "") -> str:
    blocks = "".join(f'<div class="x1f9a2c">{p}</div>' for p in paras)
    posts = "".join(
        f'<div class="x1f9a2c">{user}</div><div class="x1f9a2c">3 hours ago</div>'
        f'<div class="x1f9a2c">{text}</div><div class="x1f9a2c"><span>Reply</span></div>'
        f'<div class="x1f9a2c"><span>Report</span></div>'
        for user, text in comments
    )
    return (
        "<html><head><title>T</title><style>.a{color:red}</style></head><body>"
        '<div class="xa81b3f"><div class="x77c0de"><a href="/">Home</a></div>'
        f'<div class="x09e4aa">{blocks}{extra}<div class="x1f9a2c">Comments</div>{posts}</div>'
        "</div></body></html>"
    )


def semantic_page(paras: list[str]) -> str:
    body = "".join(f"<p>{p}</p>" for p in paras)
    return (
        "<html><body><header><nav><a href='/'>Home</a></nav></header>"
        f"<main><article><h1>T</h1>{body}</article></main><footer>F</footer></body></html>"
    )


def test_pages_of_one_template_share_a_signature_and_other_templates_do_not():
    rng = random.Random(1)
    one = hashed_page(prose(rng, 5), [("ann1", "Nice.")])
    two = hashed_page(prose(rng, 9), [("bob2", "Bad."), ("cy3", "Good."), ("di4", "Meh.")])
    other = semantic_page(prose(rng, 5))
    assert template_signature(one) == template_signature(two)
    assert template_signature(one) != template_signature(other)
    # a script's text never counts as tags
    tricky = one.replace("<title>T</title>", "<script>var s = '<div><p><b>';</script>")
    assert template_signature(tricky) == template_signature(one)


# --- per-template learning -------------------------------------------------------------


PITCH = "Get the Friday digest with the five stories our editors liked best"


def site_pages(rng: random.Random) -> list[tuple[str, str]]:
    """30 pages: 20 of template A, 10 of template B whose pages all carry PITCH;
    two B pages (one story) share a real sentence, three A pages another."""
    shared_b = "The mayor said the bridge would reopen in the spring after the repairs"
    shared_a = "Officials did not respond to a request for comment on the decision"
    pages = []
    for i in range(20):
        paras = prose(rng)
        if i < 3:
            paras.insert(2, shared_a)
        pages.append(("\n".join(paras), "A"))
    for i in range(10):
        paras = prose(rng)
        paras.insert(3, PITCH)
        if i < 2:
            paras.insert(1, shared_b)
        pages.append(("\n".join(paras), "B"))
    return pages


def test_a_line_on_every_page_of_a_third_of_the_site_is_chrome_of_its_template():
    pages = site_pages(random.Random(2))
    keys = learn_template_profile(pages).keys
    assert "get the friday digest with the five stories our editors liked best" in keys
    # the same pages as one site: the line is on a third of them, not learnt
    assert not learn_profile(t for t, _ in pages).keys
    # sentences that two or three articles share are article text
    assert keys == {"get the friday digest with the five stories our editors liked best"}


def test_a_small_template_is_not_learnt_on_its_own():
    rng = random.Random(3)
    pages = [("\n".join(prose(rng)), "A") for _ in range(20)]
    pages += [("\n".join([*prose(rng), "Three pages of a rare template"]), "B") for _ in range(5)]
    assert not learn_template_profile(pages).keys


def test_a_story_told_on_a_few_pages_of_one_template_keeps_its_repeated_lines():
    rng = random.Random(4)
    quote = "“We cannot wait another winter,” said the harbour master on Monday"
    pages = [("\n".join(prose(rng)), "A") for _ in range(9)]
    pages += [("\n".join([*prose(rng), quote]), "A") for _ in range(3)]
    assert not learn_template_profile(pages).keys


def test_follow_ups_of_one_story_sharing_a_line_keep_it():
    rng = random.Random(11)
    background = "The harbour wall was built in 1952 and last repaired after the storm of 1987"
    pages = [("\n".join(prose(rng)), "A") for _ in range(5)]
    pages += [("\n".join([*prose(rng), background]), "A") for _ in range(5)]
    pages += [("\n".join(prose(rng)), "B") for _ in range(10)]
    stories = [f"s{i}" for i in range(5)] + ["harbour"] * 5 + [f"b{i}" for i in range(10)]
    assert not learn_template_profile(pages, stories=stories).keys
    # five stories sharing it: the template's chrome after all
    assert learn_template_profile(pages).keys == {line_key(background)}


# --- reader comments -------------------------------------------------------------------


COMMENTS = [
    ("riverside42", "I have lived here twenty years and this plan makes no sense to me at all."),
    ("mk_77", "Good reporting, but the council should have asked us first."),
    ("old.tom", "Not sure why anyone is surprised by this."),
]


def test_a_comment_thread_after_the_article_is_not_article_text():
    rng = random.Random(5)
    paras = prose(rng, 6)
    page = Page("https://news.example/a/1.html", hashed_page(paras, COMMENTS).encode(), "text/html")
    result = process_page(page)
    assert result.text.split("\n") == paras
    assert result.template == template_signature(page.body.decode())


def test_a_thread_is_found_by_its_recurring_action_lines_and_short_posts():
    paras = prose(random.Random(6), 5)
    lines = [*paras, "12 comments"]
    for user, text in COMMENTS:
        lines += [user, "2 hours ago", text, "Reply", "Report"]
    assert comment_thread(lines) == (5, len(lines))
    # the last post, cut short by the extractor before its action lines
    assert comment_thread(lines[:-2]) == (5, len(lines) - 2)
    assert without_comment_threads("\n".join(lines)) == "\n".join(paras)
    # two posts, the second cut short, so "Reply" is there once
    two = [*paras, "What readers say", "riverside42", "2 hours ago", COMMENTS[0][1], "Reply"]
    two += ["mk_77", "1 hour ago", COMMENTS[1][1]]
    assert comment_thread(two) == (5, len(two))
    # one post is no thread
    assert comment_thread([*paras, "riverside42", COMMENTS[0][1], "Reply"]) is None


def test_action_lines_in_any_language_come_from_the_site_profile():
    paras = prose(random.Random(7), 5)
    lines = list(paras)
    for user, text in COMMENTS:
        lines += [user, "eilen", text, "Vastaa", "Ilmoita asiaton"]
    assert comment_thread(lines) is None  # not action words we know
    assert comment_thread(lines, {"vastaa", "ilmoita asiaton"}) == (5, len(lines))
    # stored texts lose the thread when the profile learns its action lines
    stripped = without_lines("\n".join(lines), frozenset({"vastaa"}))
    assert stripped == "\n".join(paras)


def test_the_cleaning_drops_a_thread_whose_action_lines_the_site_profile_learnt():
    paras = prose(random.Random(10), 6)
    html = hashed_page(paras, COMMENTS).replace("Reply", "Vastaa").replace("Report", "Ilmoita")
    page = Page("https://news.example/a/2.html", html.encode(), "text/html")
    unknown = process_page(page)
    assert "Vastaa" in unknown.text.split("\n")
    learnt = process_page(page, Options(site_lines={"news.example": frozenset({"vastaa"})}))
    assert learnt.text.split("\n") == paras


def test_articles_with_recurring_short_lines_are_no_thread():
    rng = random.Random(8)
    paras = prose(rng, 8)
    # an ad label between paragraphs, learnt as site chrome
    ads = [x for p in paras for x in (p, "Advertisement")]
    assert comment_thread(ads, {"advertisement"}) is None
    # an interview: short recurring speaker labels, long answers
    interview = list(paras[:2])
    for p in paras[2:]:
        interview += ["Q:", "Why now?", "A:", p]
    assert comment_thread(interview, {"q", "a"}) is None
    # a list of "Like" buttons under two paragraphs
    liked = [paras[0], "Like", paras[1], "Like", *paras[2:]]
    assert comment_thread(liked) is None
    # a "thread" longer than the article is not taken for one
    long_thread = paras[:1]
    for user, text in COMMENTS * 3:
        long_thread += [user, text, "Reply"]
    assert comment_thread(long_thread) is None


# --- a corpus learning per template ---------------------------------------------------------


def test_a_corpus_learns_the_chrome_of_a_template_that_is_a_third_of_the_site(tmp_path):
    rng = random.Random(9)
    corpus = Corpus(tmp_path / "corpus.db")
    corpus.start_crawl("files", {})
    pages = site_pages(rng)
    for i, (text, template) in enumerate(pages):
        corpus.add_article(
            article(
                f"https://site.example/{i}.html",
                text,
                title=" ".join(text.split()[:6]),
                template=f"sig-{template}",
            )
        )
    corpus.learn_site_profiles()
    texts = [r[0] for r in corpus.db.execute("SELECT text FROM articles ORDER BY id")]
    corpus.close()
    assert len(texts) == 30
    assert not any(PITCH in t for t in texts)
    assert sum("The mayor said the bridge" in t for t in texts) == 2
    assert sum("Officials did not respond" in t for t in texts) == 3
    # without templates the pitch stays (a third of the site)
    plain = Corpus(tmp_path / "plain.db")
    plain.start_crawl("files", {})
    for i, (text, _) in enumerate(pages):
        plain.add_article(
            article(f"https://site.example/{i}.html", text, title=" ".join(text.split()[:6]))
        )
    plain.learn_site_profiles()
    kept = [r[0] for r in plain.db.execute("SELECT text FROM articles")]
    plain.close()
    assert sum(PITCH in t for t in kept) == 10


# --- the bench site's template 3 ------------------------------------------------------------


def _sitegen():
    import importlib.util
    import sys

    from tests.helpers import ROOT

    spec = importlib.util.spec_from_file_location("sitegen", ROOT / "bench" / "sitegen.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["sitegen"] = module
    spec.loader.exec_module(module)
    return module


def test_the_bench_site_gets_a_hashed_template_on_a_third_of_its_pages(tmp_path):
    import json

    sitegen = _sitegen()
    sitegen.generate(tmp_path / "with", pages=90, seed=3)
    sitegen.generate(tmp_path / "again", pages=90, seed=3)
    sitegen.generate(tmp_path / "without", pages=90, seed=3, hashed=False)
    truth = [json.loads(x) for x in (tmp_path / "with" / "truth.jsonl").read_text().splitlines()]
    hashed = {r["url"] for r in truth if r["template"] == 3}
    assert 0.2 < len(hashed) / len(truth) < 0.45
    for r in truth:
        page = (tmp_path / "with" / r["url"].lstrip("/")).read_bytes()
        assert page == (tmp_path / "again" / r["url"].lstrip("/")).read_bytes()
        other = (tmp_path / "without" / r["url"].lstrip("/")).read_bytes()
        # the other templates' pages are the same as without template 3
        assert (page == other) == (r["url"] not in hashed)
        if r["url"] in hashed:
            html = page.decode()
            for telling in ("<article", "<h1", "<nav", "<aside", 'comment"', "newsletter"):
                assert telling not in html
            assert html.count(">Reply<") >= 2
