"""Datasette's plugin hooks (0.65 API), each translating to :mod:`corpora`
and :mod:`views`."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from datasette import hookimpl
from markupsafe import Markup, escape

from crawler.browse import views
from crawler.browse.corpora import corpus_queries, metadata_for, state


@hookimpl
def startup(datasette: Any) -> None:
    # decide once, before the first request, which databases are corpora
    state(datasette).corpora(datasette)


@hookimpl
def get_metadata(datasette: Any, key: str | None, database: str | None, table: str | None) -> dict:
    # the local metadata file (-m) still takes precedence over this
    return metadata_for(datasette, database, table)


@hookimpl
def canned_queries(datasette: Any, database: str, actor: Any) -> dict | None:
    if state(datasette).is_corpus(datasette, database):
        return corpus_queries()
    return None


@hookimpl
def register_routes(datasette: Any) -> list:
    return [
        (r"^/-/stories$", views.stories_view),
        (r"^/-/story/(?P<story_id>[0-9]{1,18})$", views.story_view),
        (r"^/-/crawl-health$", views.health_view),
    ]


@hookimpl
def extra_css_urls(template: str, database: str | None, datasette: Any) -> list:
    if database and state(datasette).is_corpus(datasette, database):
        return [datasette.urls.static_plugins(views.PLUGIN, "browse.css")]
    return []


@hookimpl
def menu_links(datasette: Any, actor: Any, request: Any) -> list | None:
    if not state(datasette).corpora(datasette):
        return None
    return [
        {"href": datasette.urls.path("/-/stories"), "label": "Stories"},
        {"href": datasette.urls.path("/-/crawl-health"), "label": "Crawl health"},
    ]


@hookimpl
def database_actions(datasette: Any, actor: Any, database: str, request: Any) -> list | None:
    if not state(datasette).is_corpus(datasette, database):
        return None
    query = f"?{urlencode({'db': database})}"
    return [
        {"href": datasette.urls.path("/-/stories") + query, "label": "Stories of this corpus"},
        {"href": datasette.urls.path("/-/crawl-health") + query, "label": "Crawl health"},
    ]


def _story_url(datasette: Any, database: str, story_id: Any) -> str:
    several = len(state(datasette).corpora(datasette)) > 1
    path = datasette.urls.path(f"/-/story/{int(story_id)}")
    return f"{path}?{urlencode({'db': database})}" if several else path


@hookimpl
def render_cell(
    row: Any, value: Any, column: str, table: str | None, database: str, datasette: Any
) -> Markup | None:
    """A story page link on every ``story_id`` cell of a corpus (the
    ``articles`` table and rows, the search query's results) and on the
    ``stories`` table's titles."""
    if column == "story_id" and table in (None, "articles", "story_sentences"):
        label = None
        if isinstance(value, dict):  # a foreign key expanded to its label
            value, label = value.get("value"), value.get("label")
        if not isinstance(value, int) or not state(datasette).is_corpus(datasette, database):
            return None
        url = _story_url(datasette, database, value)
        if label is None:
            return Markup('<a class="story-link" href="{}">story {}</a>').format(url, value)
        row_url = datasette.urls.row(database, "stories", str(value))
        return Markup(
            '<a href="{}">{}</a>&nbsp;<em>{}</em> · <a class="story-link" href="{}">story page</a>'
        ).format(row_url, label, value, url)
    if column == "title" and table == "stories" and state(datasette).is_corpus(datasette, database):
        try:
            story_id = row["id"]
        except (KeyError, IndexError):
            return None
        if not isinstance(story_id, int):
            return None
        return Markup('<a class="story-link" href="{}">{}</a>').format(
            _story_url(datasette, database, story_id), escape(value if value is not None else "")
        )
    return None
