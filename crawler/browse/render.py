"""Pure helpers for the story pages: which sentences to mark, and the
geometry of the SVG timeline and of the articles-per-day charts.

The templates build the HTML, with Jinja's autoescaping, so titles and texts
from the corpus (hostile input) are always escaped. The one exception is the
timeline's SVG (:func:`timeline_svg`): a large story has a thousand dots,
which Jinja takes 100 ms to render and Python 5 ms; every value from the
corpus in it goes through ``markupsafe.escape``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from markupsafe import Markup, escape

from crawler.stories import grouping


@dataclass
class Sentence:
    text: str
    shared: bool


def marked_paragraphs(text: str | None, shared_keys: set[str]) -> list[list[Sentence]]:
    """The article's paragraphs (its lines), each as its sentences, a sentence
    ``shared`` when its key (the normalised sentence, as ``story_sentences``
    stores it) is one other outlets' articles of the story also have."""
    out = []
    for line in (text or "").split("\n"):
        if not line.strip():
            continue
        out.append(
            [Sentence(s, grouping.sentence_key(s) in shared_keys) for s in grouping.sentences(line)]
        )
    return out


def safe_href(url: str | None) -> str | None:
    """``url`` if a link to it is safe to show (http, https, file), else None
    (a hostile corpus could hold ``javascript:`` URLs)."""
    if url and url.split(":", 1)[0].lower() in ("http", "https", "file"):
        return url
    return None


def parse_when(value: str | None) -> datetime | None:
    """An ISO 8601 date or time (naive taken as UTC), or None if it is not one."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        try:
            when = datetime.combine(date.fromisoformat(value.strip()[:10]), datetime.min.time())
        except ValueError:
            return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@dataclass
class Timeline:
    width: int
    height: int
    lanes: list[dict[str, Any]]  # site, y
    points: list[dict[str, Any]]  # id, site, published, x, y
    ticks: list[dict[str, Any]]  # x, label
    undated: list[dict[str, Any]]


LANE = 22
#: at most this many outlets get a lane of their own on a timeline
LANES_MAX = 24
LEFT = 150
RIGHT = 20
TOP = 10
AXIS = 28


def timeline(articles: list[dict[str, Any]], width: int = 900) -> Timeline:
    """One lane per outlet, one dot per article at its publication time."""
    dated: list[tuple[datetime, dict[str, Any]]] = []
    undated: list[tuple[None, dict[str, Any]]] = []
    for a in articles:
        when = parse_when(a.get("published"))
        if when is None:
            undated.append((None, a))
        else:
            dated.append((when, a))
    counts = Counter(a.get("site") or "(unknown)" for _, a in dated)
    sites = sorted(counts)
    if len(sites) > LANES_MAX:  # the outlets with most articles, the rest on one lane
        kept = sorted(sorted(counts, key=lambda s: (-counts[s], s))[: LANES_MAX - 1])
        other = f"({len(sites) - len(kept)} other outlets)"
        sites = [*kept, other]
    lane_y = {site: TOP + LANE * i + LANE // 2 for i, site in enumerate(sites)}
    height = TOP + LANE * len(sites) + AXIS
    if not dated:
        return Timeline(width, 0, [], [], [], [a for _, a in undated])
    start = min(w for w, _ in dated)
    end = max(w for w, _ in dated)
    span = (end - start).total_seconds() or 1.0
    inner = width - LEFT - RIGHT

    def x_of(when: datetime) -> float:
        return round(LEFT + inner * (when - start).total_seconds() / span, 1)

    points = []
    for when, a in dated:
        site = a.get("site") or "(unknown)"
        points.append(
            {
                "id": a["id"],
                "site": site,
                "published": a.get("published"),
                "x": x_of(when) if end > start else LEFT + inner / 2,
                "y": lane_y.get(site) or lane_y[sites[-1]],
            }
        )
    ticks = (
        _ticks(start, end, x_of)
        if end > start
        else [
            {"x": LEFT + inner / 2, "label": start.strftime("%Y-%m-%d %H:%M"), "anchor": "middle"}
        ]
    )
    lanes = [{"site": s, "y": y} for s, y in lane_y.items()]
    return Timeline(width, height, lanes, points, ticks, [a for _, a in undated])


def _ticks(start: datetime, end: datetime, x_of: Any, n: int = 5) -> list[dict[str, Any]]:
    span = end - start
    fmt = "%Y-%m-%d" if span >= timedelta(days=3) else "%m-%d %H:%M"
    anchors = ["start"] + ["middle"] * (n - 2) + ["end"]
    return [
        {
            "x": x_of(start + span * i / (n - 1)),
            "label": (start + span * i / (n - 1)).strftime(fmt),
            "anchor": anchors[i],
        }
        for i in range(n)
    ]


@dataclass
class Bars:
    width: int
    height: int
    bars: list[dict[str, Any]]  # x, y, w, h, label


def per_day_bars(
    per_day: dict[str, int], width: int = 120, height: int = 24, most: int = 60
) -> Bars:
    """Bars of articles per day from the first day to the last (at most
    ``most`` bars: longer spans are put into equal bins of days)."""
    days = sorted(d for d in per_day if parse_when(d))
    if not days:
        return Bars(width, height, [])
    first = date.fromisoformat(days[0])
    n_days = (date.fromisoformat(days[-1]) - first).days + 1
    bin_days = -(-n_days // most)
    bins = -(-n_days // bin_days)
    counts = [0] * bins
    for d in days:
        counts[(date.fromisoformat(d) - first).days // bin_days] += per_day[d]
    top = max(counts) or 1
    w = width / bins
    bars = []
    for i, c in enumerate(counts):
        if not c:
            continue
        h = max(1.0, round(height * c / top, 1))
        day = first + timedelta(days=i * bin_days)
        label = f"{day.isoformat()}: {c}" if bin_days == 1 else f"from {day.isoformat()}: {c}"
        bars.append(
            {
                "x": round(i * w, 1),
                "y": round(height - h, 1),
                "w": max(1.0, round(w - 1, 1)),
                "h": h,
                "label": label,
            }
        )
    return Bars(width, height, bars)


def timeline_svg(t: Timeline, href: Callable[[int], str], shown: set[int]) -> Markup:
    """The timeline as SVG: a dot per article (linking to its column when it
    is shown, else to ``href(id)``), a lane per outlet, time ticks."""
    out = [
        f'<svg class="nc-timeline" width="{t.width}" height="{t.height}"'
        f' viewBox="0 0 {t.width} {t.height}" role="img" aria-label="timeline: who published when">'
    ]
    for lane in t.lanes:
        out.append(
            f'<line class="lane" x1="{LEFT}" x2="{t.width - RIGHT}" y1="{lane["y"]}" y2="{lane["y"]}"/>'
            f'<text x="4" y="{lane["y"] + 4}">{escape(lane["site"][:24])}</text>'
        )
    for tick in t.ticks:
        out.append(
            f'<text x="{tick["x"]}" y="{t.height - 8}" text-anchor="{tick["anchor"]}">'
            f"{escape(tick['label'])}</text>"
        )
    for p in t.points:
        aid = int(p["id"])
        link = f"#article-{aid}" if aid in shown else href(aid)
        css = "dot shown" if aid in shown else "dot"
        out.append(
            f'<a href="{escape(link)}"><circle class="{css}" data-article-id="{aid}"'
            f' cx="{p["x"]}" cy="{p["y"]}" r="5"><title>{escape(p["site"])},'
            f" {escape(p['published'] or '')} (#{aid})</title></circle></a>"
        )
    out.append("</svg>")
    return Markup("\n".join(out))
