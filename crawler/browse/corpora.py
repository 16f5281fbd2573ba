"""Which served databases are corpora, and the metadata each one gets.

A database is a corpus when it has the corpus' tables (:data:`CORPUS_TABLES`),
whatever its file name: so ``datasette news.db``, ``make serve DB=/data/x.db``
and several corpora served at once all get the project's descriptions, hidden
index tables and canned queries, from the ``corpus`` section of
``crawler/metadata.yml`` (the one file that describes the schema).

Datasette's ``get_metadata`` hook is synchronous and called many times per
page, so what each database is gets decided once per database name and kept
on the Datasette instance (:func:`state`), not in a module global.
"""

from __future__ import annotations

import copy
import sqlite3
import time
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

#: tables every corpus has (crawler.storage.corpus, migration m001)
CORPUS_TABLES = frozenset({"articles", "stories", "duplicates", "failures", "crawls"})
#: the instance-level keys of metadata.yml (title, description, license)
INSTANCE_KEYS = ("title", "description_html", "license", "license_url", "source", "source_url")


@cache
def project_metadata() -> dict[str, Any]:
    """``crawler/metadata.yml``, parsed once (callers get copies)."""
    text = (resources.files("crawler") / "metadata.yml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    assert isinstance(data, dict) and "corpus" in data, "metadata.yml needs a corpus section"
    return data


def corpus_tables() -> dict[str, dict[str, Any]]:
    """A fresh copy of the tables' metadata (descriptions, hidden, search)."""
    return copy.deepcopy(project_metadata()["corpus"].get("tables") or {})


def corpus_queries() -> dict[str, dict[str, Any]]:
    """A fresh copy of the canned queries."""
    return copy.deepcopy(project_metadata()["corpus"].get("queries") or {})


def is_corpus(table_names: set[str] | list[str]) -> bool:
    return CORPUS_TABLES <= set(table_names)


def _classify(conn: sqlite3.Connection) -> bool:
    try:
        names = {r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")}
    except sqlite3.Error:
        return False
    return is_corpus(names)


@dataclass
class State:
    """Per Datasette instance: database name -> whether it is a corpus (a
    corpus stays one; the others are checked again now and then)."""

    known: dict[str, bool] = field(default_factory=dict)
    checked_at: dict[str, float] = field(default_factory=dict)
    #: a database found not to be a corpus is looked at again after this many
    #: seconds (Datasette may have been started on a file before its first crawl)
    recheck_seconds: float = 10.0

    def corpora(self, datasette: Any) -> list[str]:
        """The names of the served corpora, in the order Datasette serves them."""
        out = []
        now = time.monotonic()
        for name, db in list(datasette.databases.items()):
            if (
                not self.known.get(name)
                and now - self.checked_at.get(name, -1e9) > self.recheck_seconds
            ):
                self.known[name] = self._check(db)
                self.checked_at[name] = now
            if self.known[name]:
                out.append(name)
        return out

    def is_corpus(self, datasette: Any, name: str | None) -> bool:
        return bool(name) and name in self.corpora(datasette)

    @staticmethod
    def _check(db: Any) -> bool:
        if getattr(db, "is_memory", False) and not getattr(db, "memory_name", None):
            return False
        try:
            conn = db.connect()
        except sqlite3.Error:
            return False
        try:
            return _classify(conn)
        finally:
            conn.close()


def state(datasette: Any) -> State:
    """The plugin's state for this Datasette instance (created on first use)."""
    found = getattr(datasette, "_newscorpus_browse", None)
    if found is None:
        found = State()
        datasette._newscorpus_browse = found
    return found


def metadata_for(datasette: Any, database: str | None, table: str | None) -> dict[str, Any]:
    """What ``get_metadata`` returns: the instance keys when a corpus is
    served, and the tables' metadata of the corpora asked about (only the one
    table when Datasette asks about one table: the hook runs often)."""
    corpora = state(datasette).corpora(datasette)
    if not corpora:
        return {}
    meta = project_metadata()
    out: dict[str, Any] = {k: meta[k] for k in INSTANCE_KEYS if k in meta}
    names = corpora if database is None else [database] if database in corpora else []
    tables = meta["corpus"].get("tables") or {}
    databases: dict[str, Any] = {}
    for name in names:
        if table is not None:
            wanted = {table: copy.deepcopy(tables[table])} if table in tables else {}
        else:
            wanted = corpus_tables()
        databases[name] = {"tables": wanted}
    if databases:
        out["databases"] = databases
    return out
