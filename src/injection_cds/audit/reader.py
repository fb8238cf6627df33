"""Read the inputs: Bulk FHIR NDJSON (plain or gzip), FHIR Bundles (JSON), or directories.

Records come out in chunks of raw JSON bytes with their file and line, so the expensive work
(parsing, validating) can run in worker processes. A Bundle is parsed here, once: its entries
become records whose "line" is the entry position, and references to other entries by
``urn:uuid:`` full URL are rewritten to ``Type/id`` so they resolve like Bulk FHIR references.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

NDJSON_SUFFIXES = (".ndjson", ".ndjson.gz", ".jsonl", ".jsonl.gz")
JSON_SUFFIXES = (".json", ".json.gz")
CHUNK_RECORDS = 1000


@dataclass(frozen=True)
class Chunk:
    """Records of one file: ``(line, raw JSON)``; line is a 1-based line or ``entry[i]``."""

    file: str
    records: list[tuple[str, bytes]]


@dataclass(frozen=True)
class Skipped:
    """A record that was not audited, and why (never its content)."""

    file: str
    line: str
    reason: str


def discover(inputs: list[Path]) -> list[Path]:
    """The input files: the files given, and the FHIR files found under directories given."""
    found: list[Path] = []
    for path in inputs:
        if path.is_dir():
            found.extend(
                p
                for p in sorted(path.rglob("*"))
                if p.is_file() and p.name.lower().endswith(NDJSON_SUFFIXES + JSON_SUFFIXES)
            )
        else:
            found.append(path)
    return found


def _open(path: Path) -> io.BufferedIOBase:
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rb")
    return path.open("rb")


def is_ndjson(path: Path) -> bool:
    """NDJSON by name; anything else is read as one JSON document (a Bundle or a resource)."""
    return path.name.lower().endswith(NDJSON_SUFFIXES)


def read_chunks(
    path: Path,
    skipped: Callable[[Skipped], None],
    progress: Callable[[int], None] = lambda n: None,
    chunk_records: int = CHUNK_RECORDS,
) -> Iterator[Chunk]:
    """The records of one file in chunks; unreadable documents are reported to ``skipped``."""
    label = str(path)
    if is_ndjson(path):
        yield from _ndjson_chunks(path, label, skipped, progress, chunk_records)
        return
    try:
        with _open(path) as handle:
            document = orjson.loads(handle.read())
    except (OSError, EOFError, orjson.JSONDecodeError) as exc:
        skipped(Skipped(label, "1", _read_error(exc)))
        progress(_size(path))
        return
    progress(_size(path))
    try:
        records = document_records(document)
    except InvalidDocument as exc:
        skipped(Skipped(label, "1", str(exc)))
        return
    for start in range(0, len(records), chunk_records):
        yield Chunk(label, records[start : start + chunk_records])


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _read_error(exc: Exception) -> str:
    if isinstance(exc, orjson.JSONDecodeError):
        return "invalid JSON"
    return f"unreadable file ({type(exc).__name__})"


def _ndjson_chunks(
    path: Path,
    label: str,
    skipped: Callable[[Skipped], None],
    progress: Callable[[int], None],
    chunk_records: int,
) -> Iterator[Chunk]:
    raw = path.open("rb")
    with raw:
        handle: Any = gzip.GzipFile(fileobj=raw) if path.name.endswith(".gz") else raw
        records: list[tuple[str, bytes]] = []
        position = 0
        line_no = 0
        try:
            for line in handle:
                line_no += 1
                if line.strip():
                    records.append((str(line_no), line))
                if len(records) >= chunk_records:
                    yield Chunk(label, records)
                    records = []
                    now = raw.tell()
                    progress(now - position)
                    position = now
        except (OSError, EOFError) as exc:
            # A truncated or corrupt gzip stream: keep what was read, report the rest.
            skipped(Skipped(label, str(line_no + 1), _read_error(exc) + "; rest of file"))
        if records:
            yield Chunk(label, records)
        progress(max(_size(path) - position, 0))


class InvalidDocument(ValueError):
    """A JSON document that cannot be read as FHIR at all (the reason names no value)."""


def document_records(document: Any) -> list[tuple[str, bytes]]:
    """The records of one JSON document (a Bundle's resources, or the resource itself).

    ``InvalidDocument`` when a Bundle's entry is not an array: it would otherwise read as an
    empty Bundle, nothing audited and nothing said.
    """
    if isinstance(document, dict) and document.get("resourceType") == "Bundle":
        entries = document.get("entry", [])
        if not isinstance(entries, list):
            raise InvalidDocument("invalid FHIR: Bundle.entry: expected an array")
    return list(_document_records(document))


def _document_records(document: Any) -> Iterator[tuple[str, bytes]]:
    if isinstance(document, dict) and document.get("resourceType") == "Bundle":
        entries = document.get("entry")
        if not isinstance(entries, list):
            return
        urls = _full_urls(entries)
        for position, entry in enumerate(entries):
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if resource is None:
                continue
            if urls:
                resource = _rewrite_references(resource, urls)
            yield f"entry[{position}]", orjson.dumps(resource)
    else:
        yield "1", orjson.dumps(document)


def _full_urls(entries: list[Any]) -> dict[str, str]:
    """``urn:uuid:...`` (and other full URLs) of the Bundle's entries -> ``Type/id``."""
    urls: dict[str, str] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        resource = entry.get("resource")
        url = entry.get("fullUrl")
        if not isinstance(resource, dict) or not isinstance(url, str):
            continue
        kind, ident = resource.get("resourceType"), resource.get("id")
        if isinstance(kind, str) and isinstance(ident, str) and url.startswith("urn:"):
            urls[url] = f"{kind}/{ident}"
    return urls


def _rewrite_references(value: Any, urls: dict[str, str]) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "reference" and isinstance(item, str) and item in urls:
                out[key] = urls[item]
            else:
                out[key] = _rewrite_references(item, urls)
        return out
    if isinstance(value, list):
        return [_rewrite_references(item, urls) for item in value]
    return value
