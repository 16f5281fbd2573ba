"""The plugin's pages: ``/-/stories``, ``/-/story/<id>``, ``/-/crawl-health``.

Each takes the corpus as ``?db=NAME``; with one corpus served it may be left
out, with several and none given the page lists the corpora to choose from.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from datasette.utils.asgi import Response

from crawler.browse import queries, render
from crawler.browse.corpora import state

PLUGIN = "newscorpus-crawler"


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


class Pages:
    """URLs of the pages, for one corpus (``?db=`` only when several are served)."""

    def __init__(self, datasette: Any, database: str, several: bool) -> None:
        self.ds = datasette
        self.database = database
        self.several = several

    def url(self, path: str, **params: Any) -> str:
        query = {"db": self.database} if self.several else {}
        query.update({k: v for k, v in params.items() if v not in (None, "")})
        base = self.ds.urls.path(path)
        return f"{base}?{urlencode(query)}" if query else base

    def stories(self, **params: Any) -> str:
        return self.url("/-/stories", **params)

    def story(self, story_id: int, **params: Any) -> str:
        return self.url(f"/-/story/{story_id}", **params)

    def health(self) -> str:
        return self.url("/-/crawl-health")

    def row(self, table: str, pk: Any) -> str:
        return str(self.ds.urls.row(self.database, table, str(pk)))

    def query(self, name: str) -> str:
        return str(self.ds.urls.query(self.database, name))

    def table(self, name: str) -> str:
        return str(self.ds.urls.table(self.database, name))


async def _corpus(datasette: Any, request: Any, page: str) -> tuple[Pages | None, Response | None]:
    corpora = state(datasette).corpora(datasette)
    wanted = request.args.get("db")
    if wanted:
        if wanted not in corpora:
            return None, Response.html(
                await datasette.render_template(
                    "newscorpus_choose.html",
                    {"corpora": [], "wanted": wanted, "page": page, "choices": []},
                    request=request,
                ),
                status=404,
            )
        return Pages(datasette, wanted, len(corpora) > 1), None
    if len(corpora) == 1:
        return Pages(datasette, corpora[0], False), None
    choices = [(name, f"{datasette.urls.path(page)}?{urlencode({'db': name})}") for name in corpora]
    return None, Response.html(
        await datasette.render_template(
            "newscorpus_choose.html",
            {"choices": choices, "wanted": None, "page": page},
            request=request,
        ),
        status=200 if corpora else 404,
    )


async def stories_view(datasette: Any, request: Any) -> Response:
    pages, response = await _corpus(datasette, request, "/-/stories")
    if pages is None:
        assert response is not None
        return response
    q = (request.args.get("q") or "").strip() or None
    number = _int(request.args.get("page"), 1)
    db = datasette.get_database(pages.database)
    listing = await db.execute_fn(lambda conn: queries.stories_page(conn, q, number))
    rows = [
        {
            "story": s,
            "url": pages.story(s.id),
            "bars": render.per_day_bars(s.per_day),
            "outlets": s.outlets[:6],
            "more_outlets": max(0, len(s.outlets) - 6),
        }
        for s in listing.stories
    ]
    context = {
        "database": pages.database,
        "listing": listing,
        "rows": rows,
        "q": q or "",
        "max_matches": queries.SEARCH_MATCHES_MAX,
        "pages": pages,
        "prev_url": pages.stories(q=q, page=listing.page - 1) if listing.page > 1 else None,
        "next_url": (
            pages.stories(q=q, page=listing.page + 1) if listing.page < listing.pages else None
        ),
        "css": datasette.urls.static_plugins(PLUGIN, "browse.css"),
    }
    return Response.html(
        await datasette.render_template("newscorpus_stories.html", context, request=request)
    )


async def story_view(datasette: Any, request: Any) -> Response:
    story_id = int(request.url_vars["story_id"])
    pages, response = await _corpus(datasette, request, f"/-/story/{story_id}")
    if pages is None:
        assert response is not None
        return response
    offset = _int(request.args.get("offset"), 0)
    db = datasette.get_database(pages.database)
    found = await db.execute_fn(lambda conn: queries.story(conn, story_id, offset))
    if found is None:
        return Response.html(
            await datasette.render_template(
                "newscorpus_story.html",
                {"missing": story_id, "pages": pages, "database": pages.database},
                request=request,
            ),
            status=404,
        )
    for c in found.columns:
        for d in c["duplicates"]:
            d["href"] = render.safe_href(d["url"])
    columns = [
        {
            "article": c,
            "paragraphs": render.marked_paragraphs(c["text"], c["shared_keys"]),
            "shared": len(c["shared_keys"]),
            "row_url": pages.row("articles", c["id"]),
            "href": render.safe_href(c["url"]),
        }
        for c in found.columns
    ]
    step = queries.COLUMNS_PER_PAGE
    timeline = render.timeline(found.timeline)
    context = {
        "database": pages.database,
        "story": found,
        "columns": columns,
        "timeline": timeline,
        "timeline_svg": render.timeline_svg(
            timeline, lambda aid: pages.row("articles", aid), {c["id"] for c in found.columns}
        ),
        "shown": {c["id"] for c in found.columns},
        "pages": pages,
        "story_row": pages.row("stories", found.id),
        "prev_url": pages.story(found.id, offset=max(0, found.offset - step))
        if found.offset > 0
        else None,
        "next_url": pages.story(found.id, offset=found.offset + step)
        if found.offset + step < found.total
        else None,
        "css": datasette.urls.static_plugins(PLUGIN, "browse.css"),
    }
    return Response.html(
        await datasette.render_template("newscorpus_story.html", context, request=request)
    )


async def health_view(datasette: Any, request: Any) -> Response:
    pages, response = await _corpus(datasette, request, "/-/crawl-health")
    if pages is None:
        assert response is not None
        return response
    db = datasette.get_database(pages.database)
    found = await db.execute_fn(queries.health)
    context = {
        "database": pages.database,
        "health": found,
        "pages": pages,
        "stage_bars": {
            stage: render.per_day_bars(days, width=160, height=20)
            for stage, days in found.by_stage.items()
        },
        "why_url": pages.query("why_not_in_corpus"),
        "url": request.args.get("url") or "",
        "css": datasette.urls.static_plugins(PLUGIN, "browse.css"),
    }
    return Response.html(
        await datasette.render_template("newscorpus_health.html", context, request=request)
    )
