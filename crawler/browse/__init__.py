"""The corpus in Datasette: a plugin shipped in the package.

Registered as a Datasette entry point (``pyproject.toml``,
``[project.entry-points.datasette]``), so ``datasette news.db`` and
``make serve`` load it. It recognises a corpus by its tables, whatever the
file name, and applies ``crawler/metadata.yml`` to each corpus served
(:mod:`crawler.browse.corpora`); it adds the story pages and the crawl health
page (:mod:`crawler.browse.views`), with the SQL in :mod:`crawler.browse.queries`
and the pure rendering helpers (marked sentences, SVG geometry) in
:mod:`crawler.browse.render`. Scripts and styles are served from ``static/``;
nothing comes from a CDN.

No Scrapy here: Datasette, the corpus file and the pure core
(:mod:`crawler.stories.grouping` splits and keys sentences) only.
"""

from __future__ import annotations

from crawler.browse.hooks import (
    canned_queries,
    database_actions,
    extra_css_urls,
    get_metadata,
    menu_links,
    register_routes,
    render_cell,
    startup,
)

__all__ = [
    "canned_queries",
    "database_actions",
    "extra_css_urls",
    "get_metadata",
    "menu_links",
    "register_routes",
    "render_cell",
    "startup",
]
