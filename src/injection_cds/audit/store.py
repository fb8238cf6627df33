"""The spill store: what pass 1 read, on disk (SQLite), so memory stays flat.

Bulk exports are one resource type per file and not sorted by encounter, so nothing can be
audited until everything is read. Pass 1 writes every valid record here: administrations
keyed by their encounter group, every other resource by ``Type/id``, and the links the
rules need that point the "wrong" way (Condition -> Encounter, Coverage -> Patient,
ChargeItem and Procedure -> Encounter). Pass 2 reads one range of encounter groups at a
time and gathers, for each group, exactly the resources a discharge hook would prefetch.
"""

from __future__ import annotations

import sqlite3
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson

from injection_cds.core.extraction.index import normalise_reference

Json = Mapping[str, Any]
# (kind, key, group, raw, links): kind "adm" or "res"; links are (owner, kind) pairs.
StoreRow = tuple[str, str, str, bytes, tuple[tuple[str, str], ...]]

_SCHEMA = """
CREATE TABLE resources (key TEXT PRIMARY KEY, json BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE administrations (key TEXT PRIMARY KEY, grp TEXT NOT NULL, json BLOB NOT NULL);
CREATE TABLE links (owner TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL);
"""
_INDEXES = """
CREATE INDEX administrations_grp ON administrations (grp);
CREATE INDEX links_owner ON links (owner, kind);
"""
# Links from a resource to the encounter or patient that owns it: (type, element, link kind).
_OWNER_LINKS = {
    "Condition": (("encounter", "Condition"), ("context", "Condition")),
    "ChargeItem": (("context", "ChargeItem"),),
    "Procedure": (("encounter", "Procedure"),),
    "Coverage": (("beneficiary", "Coverage"),),
}
NO_ENCOUNTER = "~"  # prefix of the group key of an administration with no encounter


def reference_key(raw: Any) -> str | None:
    """``Type/id`` of a FHIR Reference, or None (contained and conditional references too)."""
    if not isinstance(raw, Mapping):
        return None
    reference = raw.get("reference")
    if not isinstance(reference, str) or not reference or reference.startswith("#"):
        return None
    key = normalise_reference(reference)
    return key if "/" in key and "?" not in reference else None


def classify(resource: Json, file: str, line: str, raw: bytes) -> StoreRow | None:
    """The store row of one valid resource (None for a resource with no id to link by)."""
    kind = str(resource.get("resourceType"))
    ident = resource.get("id")
    key = f"{kind}/{ident}" if isinstance(ident, str) and ident else None
    if kind == "MedicationAdministration":
        encounter = reference_key(resource.get("context")) or reference_key(
            resource.get("encounter")
        )
        group = encounter or f"{NO_ENCOUNTER}{file}:{line}"
        return "adm", key or f"{NO_ENCOUNTER}{file}:{line}", group, raw, ()
    if key is None:
        return None
    links = []
    for element, link_kind in _OWNER_LINKS.get(kind, ()):
        owner = reference_key(resource.get(element))
        if owner:
            links.append((owner, link_kind))
    return "res", key, "", raw, tuple(links)


class SpillStore:
    """Writer side (pass 1, the main process)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = sqlite3.connect(path)
        self._db.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA temp_store=FILE;" + _SCHEMA
        )

    def add(self, rows: Iterable[StoreRow]) -> None:
        """Store rows (a later record with the same key replaces an earlier one)."""
        admins: list[tuple[str, str, bytes]] = []
        resources: list[tuple[str, bytes]] = []
        links: list[tuple[str, str, str]] = []
        for kind, key, group, raw, owner_links in rows:
            if kind == "adm":
                admins.append((key, group, raw))
            else:
                resources.append((key, raw))
                links.extend((owner, link_kind, key) for owner, link_kind in owner_links)
        self._db.executemany("INSERT OR REPLACE INTO administrations VALUES (?, ?, ?)", admins)
        self._db.executemany("INSERT OR REPLACE INTO resources VALUES (?, ?)", resources)
        self._db.executemany("INSERT INTO links VALUES (?, ?, ?)", links)

    def finish(self) -> None:
        """Build the indexes and commit; the store is read-only from here."""
        self._db.executescript(_INDEXES)
        self._db.commit()

    def counts(self) -> tuple[int, int]:
        """(administrations, encounter groups) stored."""
        row = self._db.execute(
            "SELECT count(*), count(DISTINCT grp) FROM administrations"
        ).fetchone()
        return int(row[0]), int(row[1])

    def plan(self, administrations_per_task: int) -> list[tuple[str, str, int]]:
        """Ranges of encounter groups ``(first, last, administrations)`` of about equal size."""
        tasks: list[tuple[str, str, int]] = []
        first: str | None = None
        last = ""
        size = 0
        query = "SELECT grp, count(*) FROM administrations GROUP BY grp ORDER BY grp"
        for group, count in self._db.execute(query):
            if first is None:
                first = group
            last, size = group, size + int(count)
            if size >= administrations_per_task:
                tasks.append((first, last, size))
                first, size = None, 0
        if first is not None:
            tasks.append((first, last, size))
        return tasks

    def close(self) -> None:
        """Close the connection."""
        self._db.close()


class StoreReader:
    """Reader side (pass 2, one per worker process): groups and the resources they need."""

    def __init__(self, path: Path, cache_size: int = 4096) -> None:
        self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        self._cache: OrderedDict[str, Json | None] = OrderedDict()
        self._cache_size = cache_size

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def groups(self, first: str, last: str) -> Iterator[tuple[str, list[Json]]]:
        """Each encounter group in the range with its administrations, in key order."""
        query = (
            "SELECT grp, json FROM administrations WHERE grp >= ? AND grp <= ? ORDER BY grp, key"
        )
        current: str | None = None
        members: list[Json] = []
        for group, raw in self._db.execute(query, (first, last)):
            if group != current:
                if current is not None:
                    yield current, members
                current, members = group, []
            members.append(orjson.loads(raw))
        if current is not None:
            yield current, members

    def get(self, key: str | None) -> Json | None:
        """The resource stored under ``Type/id`` (a small LRU cache: drugs repeat)."""
        if not key:
            return None
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        row = self._db.execute("SELECT json FROM resources WHERE key = ?", (key,)).fetchone()
        found: Json | None = orjson.loads(row[0]) if row else None
        self._cache[key] = found
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return found

    def linked(self, owner: str, kind: str) -> list[Json]:
        """The resources of ``kind`` that point at ``owner`` (an encounter or a patient)."""
        rows = self._db.execute(
            "SELECT r.json FROM links l JOIN resources r ON r.key = l.key "
            "WHERE l.owner = ? AND l.kind = ?",
            (owner, kind),
        ).fetchall()
        return [orjson.loads(raw) for (raw,) in rows]
