"""Every table and column a user sees in Datasette is described in
crawler/metadata.yml, and the internal tables are hidden, on a freshly
migrated corpus (so a migration that adds a table or a column must say what
it is, or hide it)."""

from __future__ import annotations

import asyncio

import pytest
import yaml
from datasette.app import Datasette

from crawler.storage.corpus import open_database
from tests.helpers import ROOT

METADATA = ROOT / "crawler" / "metadata.yml"


def datasette_metadata() -> dict:
    """The project's metadata file (the plugin crawler.browse applies it to every corpus)."""
    return yaml.safe_load(METADATA.read_text(encoding="utf-8"))


def table_metadata(metadata: dict) -> dict[str, dict]:
    """Table name -> its entry (description, hidden, columns) in ``metadata``."""
    return metadata["corpus"]["tables"]


#: what a user reads: each must be visible, described, every column too
USER_TABLES = {
    "articles",
    "duplicates",
    "failures",
    "crawls",
    "stories",
    "versions",
    "site_profiles",
    "story_sentences",
}
#: the writer's indexes and bookkeeping: each must be hidden
INTERNAL_TABLES = {
    "_sqlite_migrations",
    "pages",
    "neardup_fingerprints",
    "neardup_fingerprints_new",
    "story_terms",
    "story_terms_new",
    "article_features",
    "corpus_state",
    "articles_fts",
    "warc_files",
}


async def _what_datasette_shows(path) -> tuple[set[str], set[str], dict[str, set[str]]]:
    """Tables, hidden tables, and the columns of each table or view, as
    Datasette sees the corpus at ``path`` with our metadata."""
    ds = Datasette([str(path)])  # the plugin gives it the project's metadata
    await ds.invoke_startup()
    db = ds.get_database("corpus")
    tables = set(await db.table_names())
    hidden = set(await db.hidden_table_names())
    columns = {t: set(await db.table_columns(t)) for t in tables | set(await db.view_names())}
    return tables, hidden, columns


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("meta") / "corpus.db"
    open_database(path).close()
    return asyncio.run(_what_datasette_shows(path))


@pytest.fixture(scope="module")
def tables_meta() -> dict[str, dict]:
    return table_metadata(datasette_metadata())


def test_every_table_is_either_for_users_or_internal(corpus):
    tables, _, _ = corpus
    fts_shadows = {t for t in tables if t.startswith("articles_fts_")}
    assert tables - fts_shadows == USER_TABLES | INTERNAL_TABLES
    assert not USER_TABLES & INTERNAL_TABLES


def test_every_table_and_column_a_user_sees_is_described(corpus, tables_meta):
    tables, hidden, columns = corpus
    visible = set(columns) - hidden
    assert visible == USER_TABLES
    for table in sorted(visible):
        meta = tables_meta.get(table) or {}
        assert (meta.get("description") or "").strip(), f"{table} has no description"
        described = {c for c, text in (meta.get("columns") or {}).items() if str(text).strip()}
        assert columns[table] <= described, f"{table}: {sorted(columns[table] - described)}"


def test_internal_tables_are_hidden(corpus):
    tables, hidden, _ = corpus
    assert INTERNAL_TABLES <= hidden
    assert {t for t in tables if t.startswith("articles_fts")} <= hidden


def test_the_metadata_describes_nothing_that_is_not_there(corpus, tables_meta):
    """A renamed or dropped table or column leaves no stale description."""
    _, _, columns = corpus
    assert set(tables_meta) <= set(columns)
    for table, meta in tables_meta.items():
        assert set(meta.get("columns") or {}) <= columns[table], table
