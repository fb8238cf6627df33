"""Self-administered drug (SAD) exclusion lists (Pub 100-02 ch.15 §50.2).

Medicare Part B does not cover a drug its MAC lists as usually self-administered, nor its
administration. Two sources:

* the shipped default list ``data/self_administered.csv`` (``name, match_names, hcpcs,
  source``: insulin, adalimumab, etanercept and the GLP-1 agonists), used until a MAC's list
  is loaded;
* a MAC's SAD list saved as CSV (the MCD "Self-Administered Drug Exclusion List" article's
  table): free text may precede the header; the header is the first row with a cell naming
  the HCPCS code (``HCPCS``, ``HCPCS Code``, ``Code``) or the drug (``Drug Name``,
  ``Generic Name``, ``Brand Name``, ``Description``). Every HCPCS code and every drug name
  found becomes an entry. A loaded list replaces the shipped one.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

_SHIPPED = "self_administered.csv"
_HCPCS = re.compile(r"^[A-Z]\d{4}$")
_CODE_HEADERS = ("hcpcs", "hcpcs code", "code", "hcpcs/cpt code")
_QUALIFIERS = ("all ", "any ", "other ", "see ")
_NAME_HEADERS = ("drug name", "generic name", "brand name", "description", "drug", "name")


class SadListError(ValueError):
    """A SAD list file does not have the documented layout."""


@dataclass(frozen=True)
class SadList:
    """Drug names (lower case, matched as words) and HCPCS codes on a SAD list."""

    names: tuple[str, ...] = ()
    hcpcs: frozenset[str] = frozenset()
    source: str = ""

    @classmethod
    def shipped(cls) -> SadList:
        """The shipped default list."""
        return _shipped()

    def lists(self, hcpcs: str | None, text: str) -> str | None:
        """The entry that lists a drug (by HCPCS code or a name in its text), or None."""
        if hcpcs and hcpcs.upper() in self.hcpcs:
            return hcpcs.upper()
        for name in self.names:
            if re.search(r"(?<![a-z])" + re.escape(name) + r"(?![a-z])", text):
                return name
        return None


def read_shipped_csv(text: str) -> SadList:
    """The shipped layout."""
    names: list[str] = []
    codes: set[str] = set()
    for row in csv.DictReader(text.splitlines()):
        names.extend(n.strip().lower() for n in row["match_names"].split("|") if n.strip())
        codes.update(c.strip().upper() for c in row["hcpcs"].split("|") if c.strip())
    return SadList(tuple(sorted(set(names), key=len, reverse=True)), frozenset(codes), "shipped")


def read_mac_sad_list(text: str, source: str) -> SadList:
    """A MAC's SAD list saved as CSV (layout in the module docstring)."""
    rows = [[cell.strip() for cell in row] for row in csv.reader(text.splitlines())]
    header_at: int | None = None
    code_at: int | None = None
    name_ats: list[int] = []
    for at, row in enumerate(rows):
        lowered = [cell.lower() for cell in row]
        code_at = next((i for i, c in enumerate(lowered) if c in _CODE_HEADERS), None)
        name_ats = [i for i, c in enumerate(lowered) if c in _NAME_HEADERS]
        if code_at is not None or name_ats:
            header_at = at
            break
    if header_at is None:
        raise SadListError(f"{source}: no header row naming the HCPCS code or the drug")
    names: set[str] = set()
    codes: set[str] = set()
    for row in rows[header_at + 1 :]:
        if code_at is not None and len(row) > code_at:
            for token in re.split(r"[\s,;/]+", row[code_at].upper()):
                if _HCPCS.match(token):
                    codes.add(token)
        for name_at in name_ats:
            if len(row) > name_at and row[name_at]:
                names.update(_names_in(row[name_at]))
    if not names and not codes:
        raise SadListError(f"{source}: no HCPCS code or drug name under the header")
    return SadList(tuple(sorted(names, key=len, reverse=True)), frozenset(codes), source)


def _names_in(cell: str) -> set[str]:
    """Drug names in a list cell, and the ingredient word of each multi-word name.

    "Sumatriptan succinate (Imitrex)" gives "sumatriptan succinate", "sumatriptan",
    "imitrex"; qualifiers like "all products" are left out.
    """
    found: set[str] = set()
    for part in re.split(r"[,;()/]", cell.lower()):
        name = part.strip()
        if len(name) < 4 or _HCPCS.match(name.upper()) or name.startswith(_QUALIFIERS):
            continue
        found.add(name)
        first = name.split()[0]
        if len(first) >= 5:
            found.add(first)
    return found


def load_mac_sad_list(path: Path) -> SadList:
    """Read a MAC's SAD list CSV at ``path``."""
    return read_mac_sad_list(path.read_text("utf-8-sig", errors="replace"), path.name)


@lru_cache(maxsize=1)
def _shipped() -> SadList:
    data = resources.files("injection_cds.reference.data").joinpath(_SHIPPED)
    return read_shipped_csv(data.read_text("utf-8"))
