"""Generate a realistic local news site for benchmarks, deterministically.

    python bench/sitegen.py OUT_DIR [--pages 2000] [--seed 1]

N article pages from three templates with real chrome (navigation, share
bars, related and most-read lists, newsletter and cookie boxes, comments,
captions, inline scripts and styles: pages of about 60 KB like real ones),
about 10 % exact duplicates under other URLs, about 5 % near-duplicates
(lightly edited copies), an RSS feed, a sitemap index with sitemaps, and
robots.txt. The same seed gives the same site, byte for byte.

A third of the pages use a fourth template (3) with hashed class names and no
telling markup, whose chrome recurs on its pages only (see ``render_hashed``;
``--no-hashed`` leaves it out, and the other pages are the same either way).
``truth.jsonl`` gives every page's template and true text (its paragraphs),
for the per-template scores of ``bench/crawl.py``.

Texts are about something, as on a real site: every article belongs to a
story (a topic with its own generated place, people, organisation and
figures); about a third of the articles follow up one of the recent stories,
the rest start a new one. Sentences combine the story's names with a shared
stock of subjects, verbs and clauses, so articles of one story read alike
and articles of different stories do not.
"""

from __future__ import annotations

import argparse
import html
import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

SUBJECTS = """The council|The minister|Local residents|The regional court|Health officials|
The central bank|Union leaders|The opposition party|Firefighters|The school board|Researchers at
the university|The port authority|Farmers in the valley|The transport agency|City engineers|
The environmental agency|Investors|The football club|Hospital managers|Police""".replace(
    "\n", " "
).split("|")
VERBS = """announced|rejected|approved|criticised|postponed|defended|questioned|welcomed|reviewed|
proposed|delayed|funded|investigated|expanded|cancelled|supported|warned about|described|
published|debated""".replace("\n", " ").split("|")
OBJECTS = """a plan to rebuild the harbour wall|new limits on river pollution|the budget for next
year|a reform of the pension system|the closure of two rural clinics|a report on housing costs|
the extension of the tram line|a ban on night flights|higher fees for water use|a programme to
train nurses|the sale of the old power station|plans for a new stadium|rules on short-term
rentals|the merger of three local banks|a study of air quality near schools|the rescue of the
steel plant|a curfew in the old town|repairs to the main bridge|a vote on wind turbines|
compensation for flooded homes""".replace("\n", " ").split("|")
CLAUSES = """after months of public pressure|despite objections from neighbours|according to
documents seen by reporters|in a statement released on Monday|following a heated debate|
citing rising costs|as the deadline approached|amid concerns about safety|with support from
national funds|before the summer recess|after an independent review|in response to a
petition signed by thousands|while critics called it too little|as prices kept
rising""".replace("\n", " ").split("|")
QUOTES = [
    "“We cannot wait another winter,” said a spokesperson.",
    "“This is the right decision for the region,” the mayor told reporters.",
    "“Nobody asked the people who live here,” one resident said.",
    "“The numbers simply do not add up,” an economist said.",
    "“We will keep a close eye on how the money is spent,” a councillor said.",
]
NAMES = [
    "Anna Berg",
    "Tomas Novak",
    "Leila Haddad",
    "John Carter",
    "Mei Lin",
    "Paulo Santos",
    "Sara Ahmed",
    "Jonas Weber",
    "Elena Rossi",
    "David Okafor",
]
SECTIONS = ["world", "politics", "business", "local", "science", "sport", "health", "culture"]

NAV = "".join(f'<li><a href="/{s}/">{s.title()}</a></li>' for s in SECTIONS * 6)
STYLE = (
    "<style>"
    + " ".join(f".c{i}{{margin:{i}px;padding:{i % 7}px;color:#{i:03x}}}" for i in range(900))
    + "</style>"
)
SCRIPT = (
    "<script>window.__STATE__="
    + json.dumps({"k" + str(i): "v" * 20 for i in range(500)})
    + ";</script>"
)


@dataclass
class Article:
    id: int
    url: str
    title: str
    author: str
    published: datetime
    section: str
    paragraphs: list[str]
    template: int


SYLLABLES = (
    "ka lo mar ten vi ros bel dun sa qui ter no ha gal pe mon ri zu fen dor "
    "al bra cor e fi gan is jor li ne or pra sel ta u var wen ya"
).split()


def _word(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(parts)).capitalize()


@dataclass
class Topic:
    """What one story is about: its names and figures."""

    place: str
    people: tuple[str, str]
    org: str
    thing: str
    figure: int


def new_topic(rng: random.Random) -> Topic:
    place = _word(rng, 2) + rng.choice(["", "ford", "ton", " Valley", " Bay", "berg"])
    people = tuple(f"{_word(rng, 2)} {_word(rng, rng.randint(2, 3))}" for _ in range(2))
    org = (
        f"{_word(rng, 2)} {rng.choice(['Council', 'Group', 'Union', 'Trust', 'Institute', 'Bank'])}"
    )
    return Topic(place, people, org, rng.choice(OBJECTS), rng.randint(3, 950))  # type: ignore[arg-type]


def sentence(rng: random.Random, topic: Topic | None = None) -> str:
    t = topic or new_topic(rng)
    subject = rng.choice(
        [
            rng.choice(SUBJECTS),
            f"{t.people[0]} of the {t.org}",
            t.people[1],
            f"The {t.org}",
            f"Officials in {t.place}",
        ]
    )
    what = rng.choice(
        [
            f"{t.thing} in {t.place}",
            rng.choice(OBJECTS),
            f"the {t.figure} million euro deal over {t.thing}",
        ]
    )
    s = f"{subject} {rng.choice(VERBS)} {what} {rng.choice(CLAUSES)}"
    if rng.random() < 0.3:
        s += (
            f", and {rng.choice(SUBJECTS).lower()} said {rng.randint(2, 40) * t.figure} people"
            f" in {t.place} were affected"
        )
    return s + "."


def paragraph(rng: random.Random, topic: Topic | None = None) -> str:
    t = topic or new_topic(rng)
    parts = [sentence(rng, t) for _ in range(rng.randint(3, 6))]
    if rng.random() < 0.25:
        quote = rng.choice(QUOTES).rsplit(" said", 1)[0].rsplit(" the mayor", 1)[0].rstrip(",")
        parts.insert(rng.randint(0, len(parts)), f"{quote} said {rng.choice(t.people)}.")
    return " ".join(parts)


def make_articles(n: int, rng: random.Random) -> list[Article]:
    start = datetime(2025, 1, 1, 6, 0, tzinfo=UTC)
    out: list[Article] = []
    recent: list[Topic] = []
    for i in range(n):
        section = rng.choice(SECTIONS)
        if recent and rng.random() < 0.35:
            topic = rng.choice(recent[-20:])  # a follow-up of a recent story
        else:
            topic = new_topic(rng)
            recent.append(topic)
        paras = [paragraph(rng, topic) for _ in range(rng.randint(8, 16))]
        title = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {topic.thing} in {topic.place}"
        out.append(
            Article(
                i,
                f"/{section}/{2025}/story-{i:05d}.html",
                title[:1].upper() + title[1:],
                rng.choice(NAMES),
                start + timedelta(minutes=37 * i),
                section,
                paras,
                rng.randrange(3),
            )
        )
    return out


def chrome_lists(rng: random.Random, articles: list[Article]) -> tuple[str, str]:
    related = "".join(
        f'<li><a href="{a.url}">{html.escape(a.title)}</a></li>'
        for a in rng.sample(articles, min(6, len(articles)))
    )
    popular = "".join(
        f'<li><a href="{a.url}">{html.escape(a.title)}</a></li>'
        for a in rng.sample(articles, min(5, len(articles)))
    )
    return related, popular


def render(a: Article, rng: random.Random, articles: list[Article], site: str) -> str:
    esc = html.escape
    related, popular = chrome_lists(rng, articles)
    body = "".join(f"<p>{esc(p)}</p>" for p in a.paragraphs)
    mid = len(a.paragraphs) // 2
    figure = (
        f'<figure><img src="/img/{a.id}.jpg" alt=""><figcaption>{esc(a.title)}. '
        f"Photo: {esc(rng.choice(NAMES))}/Agency</figcaption></figure>"
    )
    comments = "".join(
        f'<div class="comment"><b>{esc(n)}</b><p>{esc(sentence(rng))}</p></div>'
        for n in rng.sample(NAMES, 3)
    )
    head = f"""<head><meta charset="utf-8"><title>{esc(a.title)} | {site}</title>
<meta property="og:title" content="{esc(a.title)}"><meta property="og:type" content="article">
<meta property="og:site_name" content="{site}"><meta name="author" content="{esc(a.author)}">
<meta property="article:published_time" content="{a.published.isoformat()}">
<link rel="canonical" href="{{base}}{a.url}">{STYLE}{SCRIPT}</head>"""
    share = (
        '<div class="share"><span>Share:</span> <a href="#">Facebook</a> <a href="#">X</a> '
        '<a href="#">WhatsApp</a> <a href="#">Email</a></div>'
    )
    newsletter = (
        '<div class="newsletter"><h3>Get the morning briefing</h3><p>Sign up for our '
        'newsletter and never miss a story.</p><form><input type="email"></form></div>'
    )
    cookie = (
        '<div id="cookie-banner">We use cookies to improve your experience. '
        "<button>Accept all</button> <button>Manage preferences</button></div>"
    )
    if a.template == 0:
        page = f"""<!DOCTYPE html><html lang="en">{head}<body>{cookie}<header><nav><ul>{NAV}</ul></nav></header>
<main><article><h1>{esc(a.title)}</h1><p class="byline">By {esc(a.author)}</p>{share}
{"".join(f"<p>{esc(p)}</p>" for p in a.paragraphs[:mid])}{figure}
{"".join(f"<p>{esc(p)}</p>" for p in a.paragraphs[mid:])}{share}</article>
<aside><h2>Related</h2><ul>{related}</ul><h2>Most read</h2><ol>{popular}</ol></aside>{newsletter}</main>
<footer><p>© 2025 {site}. All rights reserved.</p><ul>{NAV}</ul></footer></body></html>"""
    elif a.template == 1:
        divs = "".join(
            f'<div class="txt"><div class="c{i}">{esc(p)}</div></div>'
            for i, p in enumerate(a.paragraphs)
        )
        page = f"""<html>{head}<body><div id="wrap"><div class="top"><div class="menu">{NAV}</div></div>
<div class="main"><div class="headline"><h1>{esc(a.title)}</h1></div><div class="meta">{esc(a.author)} |
{a.published:%d %B %Y}</div><div class="ad">Advertisement</div><div class="content">{divs}</div>
<div class="promo"><div>Watch: Evening bulletin (04:12)</div><div>Newsroom live</div></div>
<div class="rel"><div>Read more:</div>{related}</div><div class="comments">{comments}</div></div>
<div class="side">{popular}{newsletter}</div><div class="foot">© {site}</div></div>{cookie}</body></html>"""
    else:
        page = f"""<!DOCTYPE html><html lang="en">{head}<body><header class="site-header"><nav>{NAV}</nav></header>
<div class="container"><div class="post"><h1 class="entry-title">{esc(a.title)}</h1>
<div class="entry-meta">Posted on {a.published:%B %d, %Y} by {esc(a.author)}</div>
<div class="entry-content">{body}{figure}</div>
<div class="author-bio"><h4>About the author</h4><p>{esc(a.author)} writes about {a.section} for {site}.</p></div>
<div class="tags">Tags: <a href="/tag/{a.section}">{a.section}</a></div></div>
<div id="comments"><h3>3 thoughts on this</h3>{comments}<h3>Leave a Reply</h3><form><textarea></textarea></form></div>
<div class="sidebar"><h3>Recent posts</h3><ul>{related}</ul></div></div><footer>{site}</footer></body></html>"""
    return page


# --- template 3: hashed class names, no telling markup (issue 17, point 5) ----
#
# A third of the pages (chosen by a random stream of their own, so the other
# pages, and the main stream, are as without it) use a template built only of
# <div>s and <span>s with hashed class names: no <article>, <h1>, <aside>,
# <nav> or "comment"/"newsletter" class to tell the chrome from the text. Its
# chrome recurs on every page of the template with some variation: a
# newsletter pitch (two wordings), related-headline lists under a fixed
# heading, and reader comments (names, times and texts differ per page; the
# "Reply" and "Report" lines and the heading recur).

HASHED_TEMPLATE = 3
HASHED_SHARE = 1 / 3


def _cls(role: str) -> str:
    """A stable hashed class name, as CSS-in-JS builds make them."""
    return "x" + format(abs(hash_str(role)) % 16**6, "06x")


def hash_str(text: str) -> int:
    """A hash that does not change between runs (``hash`` of a str does)."""
    h = 2166136261
    for ch in text.encode():
        h = ((h ^ ch) * 16777619) % 2**32
    return h


COMMENT_OPENERS = [
    "I have lived here for twenty years and",
    "Honestly,",
    "Not sure why anyone is surprised:",
    "My neighbours and I think",
    "As a taxpayer I would say",
    "Good reporting, but",
]


def hashed_comment(rng: random.Random, topic_words: list[str]) -> str:
    word = rng.choice(topic_words)
    return " ".join(
        f"{rng.choice(COMMENT_OPENERS)} {rng.choice(SUBJECTS).lower()} "
        f"{rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(CLAUSES)}; {word} deserves better."
        for _ in range(rng.randint(1, 3))
    )


def render_hashed(a: Article, rng: random.Random, articles: list[Article], site: str) -> str:
    """A page of template 3 (``rng`` is the template's own stream)."""
    esc = html.escape
    c = _cls
    head = f"""<head><meta charset="utf-8"><title>{esc(a.title)} | {site}</title>
<meta property="og:title" content="{esc(a.title)}"><meta name="author" content="{esc(a.author)}">
<meta property="article:published_time" content="{a.published.isoformat()}">
<link rel="canonical" href="{{base}}{a.url}">{STYLE}{SCRIPT}</head>"""
    menu = "".join(
        f'<span class="{c("m")}"><a href="/{s}/">{s.title()}</a></span>' for s in SECTIONS
    )
    # Every block of the page body is a sibling <div> of one hashed class: the
    # paragraphs, the newsletter box in the middle, the related headlines and
    # the reader comments after them.
    blk = c("blk")

    def block(text: str) -> str:
        return f'<div class="{blk}">{text}</div>'

    def links(k: int) -> str:
        return "".join(
            block(f'<a href="{x.url}">{esc(x.title)}</a>')
            for x in rng.sample(articles, min(k, len(articles)))
        )

    pitch = (
        "Our editors pick the five stories you should not miss, every Friday morning."
        if rng.random() < 0.7
        else "Five stories our editors think you should not miss, delivered on Fridays."
    )
    newsletter = (
        block("The Friday digest")
        + block(pitch)
        + f'<div class="{blk}"><input type="email"><span>Sign me up</span></div>'
    )
    words = [w for p in a.paragraphs[:2] for w in p.split() if w[:1].isupper() and len(w) > 5]
    words = words or ["the town"]
    posts = "".join(
        block(f"{esc(name.split()[0].lower())}{rng.randint(1, 99)}")
        + block(f"{rng.randint(1, 23)} hours ago")
        + block(esc(hashed_comment(rng, words)))
        + block("<span>Reply</span>")
        + block("<span>Report</span>")
        for name in rng.sample(NAMES, rng.randint(2, 5))
    )
    mid = len(a.paragraphs) // 2
    body = (
        "".join(block(esc(p)) for p in a.paragraphs[:mid])
        + newsletter
        + "".join(block(esc(p)) for p in a.paragraphs[mid : mid + 2])
        + block("More on this")
        + links(3)
        + "".join(block(esc(p)) for p in a.paragraphs[mid + 2 :])
        + block("What readers say")
        + posts
        + block("Load more comments")
        + block("Elsewhere on the site")
        + links(4)
    )
    return f"""<!DOCTYPE html><html lang="en">{head}<body><div class="{c("root")}">
<div class="{c("top")}">{menu}</div><div class="{c("wrap")}"><div class="{c("hd")}">{esc(a.title)}</div>
<div class="{c("by")}">{esc(a.author)} · {a.published:%d.%m.%Y %H:%M}</div>
<div class="{c("body")}">{body}</div></div>
<div class="{c("ft")}">© {site}</div></div></body></html>"""


def truth_record(a: Article) -> dict:
    """What the page's stored text should be: its paragraphs, and its template."""
    return {"url": a.url, "template": a.template, "text": "\n".join(a.paragraphs)}


# --- end of template 3 ------------------------------------------------------


def near_copy(a: Article, rng: random.Random, new_id: int) -> Article:
    paras = list(a.paragraphs)
    # A light edit: one paragraph dropped, one sentence added, a word changed.
    paras.pop(rng.randrange(len(paras)))
    paras.append(sentence(rng))  # a sentence of some other story
    paras[0] = paras[0].replace("The ", "the ", 1)
    return Article(
        new_id,
        f"/{a.section}/2025/syndicated-{new_id:05d}.html",
        a.title,
        "Wire staff",
        a.published + timedelta(hours=2),
        a.section,
        paras,
        (a.template + 1) % 3,
    )


def render_amp(a: Article, site: str) -> str:
    """The AMP variant of an article's page (no randomness: the rest of the site
    stays the same with or without AMP variants): the same text in AMP markup,
    its canonical link pointing at the article's page, a lighter chrome."""
    esc = html.escape
    body = "".join(f"<p>{esc(p)}</p>" for p in a.paragraphs)
    return f"""<!doctype html><html amp lang="en"><head><meta charset="utf-8">
<title>{esc(a.title)} | {site}</title><link rel="canonical" href="{{base}}{a.url}">
<meta property="og:site_name" content="{site}"><meta name="author" content="{esc(a.author)}">
<meta property="article:published_time" content="{a.published.isoformat()}">
<style amp-custom>body{{font-family:sans-serif}}</style></head><body>
<header class="amp-header"><a href="/">{site}</a></header><article class="amp-article">
<h1>{esc(a.title)}</h1><p class="byline">By {esc(a.author)} &middot; {a.published:%d %B %Y}</p>
<amp-img src="/img/{a.id}.jpg" width="800" height="450" layout="responsive"></amp-img>
{body}<p class="amp-more">View the full site for related stories.</p></article>
<footer class="amp-footer">&copy; 2025 {site}</footer></body></html>"""


def generate(
    out: Path,
    pages: int = 2000,
    seed: int = 1,
    site: str = "The Bench Courier",
    amp: int = 0,
    *,
    hashed: bool = True,
) -> dict:
    """The site: ``pages`` pages (originals, near and exact copies), plus ``amp``
    AMP variants of originals (``/amp/...``, listed in the sitemap too).
    ``hashed``: a third of the pages use template 3 (hashed class names)."""
    rng = random.Random(seed)
    n_dup, n_near = pages // 10, pages // 20
    originals = make_articles(pages - n_dup - n_near, rng)
    near = [near_copy(rng.choice(originals), rng, len(originals) + i) for i in range(n_near)]
    articles = originals + near
    out.mkdir(parents=True, exist_ok=True)
    urls: list[tuple[str, datetime]] = []
    # template 3: its own streams, so that the main one goes as without it
    pick3, rng3 = random.Random(f"{seed}-t3-pick"), random.Random(f"{seed}-t3")
    truth: dict[str, dict] = {}
    for a in articles:
        path = out / a.url.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        page = render(a, rng, articles, site)
        if hashed and pick3.random() < HASHED_SHARE:
            a.template = HASHED_TEMPLATE
            page = render_hashed(a, rng3, articles, site)
        path.write_text(page, encoding="utf-8")
        truth[a.url] = truth_record(a)
        urls.append((a.url, a.published))
    dups = []
    for i in range(n_dup):
        a = rng.choice(originals)
        url = f"/{a.section}/2025/copy-{i:05d}.html"
        (out / url.lstrip("/")).write_text(
            (out / a.url.lstrip("/"))
            .read_text(encoding="utf-8")
            .replace(f'href="{{base}}{a.url}"', f'href="{{base}}{url}"'),
            encoding="utf-8",
        )
        urls.append((url, a.published))
        dups.append(url)
        truth[url] = truth_record(a) | {"url": url}
    for a in originals[:: max(1, len(originals) // amp)][:amp] if amp > 0 else ():
        url = f"/amp{a.url}"
        path = out / url.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_amp(a, site), encoding="utf-8")
        urls.append((url, a.published))
    urls.sort(key=lambda u: u[0])
    per_map = 500
    maps = []
    for k in range(0, len(urls), per_map):
        name = f"sitemap-{k // per_map + 1}.xml"
        entries = "".join(
            f"<url><loc>{{base}}{u}</loc><lastmod>{d.isoformat()}</lastmod></url>"
            for u, d in urls[k : k + per_map]
        )
        (out / name).write_text(
            '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns='
            f'"http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'
        )
        maps.append(name)
    index = "".join(f"<sitemap><loc>{{base}}/{m}</loc></sitemap>" for m in maps)
    (out / "sitemap.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns='
        f'"http://www.sitemaps.org/schemas/sitemap/0.9">{index}</sitemapindex>'
    )
    items = "".join(
        f"<item><title>{html.escape(a.title)}</title><link>{{base}}{a.url}</link>"
        f"<pubDate>{a.published:%a, %d %b %Y %H:%M:%S +0000}</pubDate></item>"
        for a in articles[-100:]
    )
    (out / "feed.xml").write_text(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{site}</title>'
        f"{items}</channel></rss>"
    )
    (out / "robots.txt").write_text("User-agent: *\nAllow: /\nSitemap: {base}/sitemap.xml\n")
    manifest = {
        "pages": len(urls),
        "originals": len(originals),
        "near_duplicates": len(near),
        "exact_duplicates": len(dups),
        "amp_variants": max(0, min(amp, len(originals))),
        "seed": seed,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    (out / "truth.jsonl").write_text(
        "".join(json.dumps(truth[u], ensure_ascii=False) + "\n" for u in sorted(truth)),
        encoding="utf-8",
    )
    return manifest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--pages", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--amp", type=int, default=0, help="AMP variants of originals to add")
    ap.add_argument("--no-hashed", action="store_true", help="leave template 3 out")
    args = ap.parse_args()
    print(
        json.dumps(
            generate(args.out, args.pages, args.seed, amp=args.amp, hashed=not args.no_hashed)
        )
    )


if __name__ == "__main__":
    main()
