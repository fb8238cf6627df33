"""Build a quarter's reference document from the CMS files (``injection-cds reference``).

Reads the ASP crosswalk, the payment limit file and OPPS Addendum B (``cms_files.py``) and
writes the compact document ``drugref.py`` loads: every drug code with its dosage parsed,
every NDC with its packages, the payment limit and the status indicator. What is kept:

* codes of the crosswalk and the payment limit file, with the HCPCS Level II short
  description (CPT codes keep their number only: CPT descriptors are AMA's);
* the code's dosage from the payment limit file, else the crosswalk's most frequent one;
* of Addendum B, the status indicator of every drug code (J, Q, C9, A9 and the 90281-90759
  immune globulin and vaccine products) — the NOC codes and codes without an ASP included.

The output is deterministic: sorted keys, fixed gzip header (no time, no name), so a
rebuild from the same files gives the same bytes.
"""

from __future__ import annotations

import gzip
import re
from collections import Counter
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

import orjson

from injection_cds.core.ndc import normalise_ndc
from injection_cds.reference import cms_files
from injection_cds.reference.cms_files import CmsFile, CrosswalkRow, OppsRow, PricingRow
from injection_cds.reference.dosage import parse_dosage
from injection_cds.reference.drugref import FORMAT

_DRUG_CODE = re.compile(r"^(J\d{4}|Q[0-9]\d{3}|C9\d{3}|A9\d{3}|90[2-7]\d\d)$")


class BuildError(ValueError):
    """The files given do not make a quarter (one missing, or not CMS files)."""


def _is_cpt(code: str) -> bool:
    return code[:1].isdigit()


def _number(text: str) -> str:
    """A figure as published, normalised (``"1.000"`` -> ``"1"``; blank stays blank)."""
    cleaned = text.replace("$", "").replace(",", "").strip()
    if not cleaned:
        return ""
    try:
        value = float(cleaned)
    except ValueError:
        return ""
    return format(value, "f").rstrip("0").rstrip(".") if "." in cleaned else str(int(value))


def _file_info(file: CmsFile[Any]) -> dict[str, str | None]:
    return {
        "name": file.name,
        "title": file.title,
        "start": file.start.isoformat() if file.start else None,
        "end": file.end.isoformat() if file.end else None,
    }


def document(
    crosswalk: CmsFile[CrosswalkRow], pricing: CmsFile[PricingRow], opps: CmsFile[OppsRow]
) -> dict[str, Any]:
    """The reference document of one quarter (layout: ``drugref.py``)."""
    start = crosswalk.start or pricing.start
    end = crosswalk.end or pricing.end
    if start is None or end is None:
        raise BuildError(f"{crosswalk.name}: no 'Effective ... through ...' line in its preamble")
    status = {row.code: row for row in opps.rows}
    dosages: dict[str, Counter[str]] = {}
    descriptions: dict[str, str] = {}
    for row in crosswalk.rows:
        dosages.setdefault(row.code, Counter())[row.dosage] += 1
        descriptions.setdefault(row.code, row.description)
    limits = {row.code: row for row in pricing.rows}
    codes: dict[str, list[str]] = {}
    for code in sorted(set(dosages) | set(limits)):
        priced = limits.get(code)
        text = priced.dosage if priced and priced.dosage else dosages[code].most_common(1)[0][0]
        parsed = parse_dosage(text)
        description = (priced.description if priced else "") or descriptions.get(code, "")
        codes[code] = [
            "" if _is_cpt(code) else description,
            text,
            format(parsed.amount.normalize(), "f") if parsed else "",
            parsed.unit if parsed else "",
            parsed.kind if parsed else "",
            _number(priced.payment_limit) if priced else "",
            status[code].status_indicator if code in status else "",
        ]
    ndcs: dict[str, list[list[str]]] = {}
    for row in crosswalk.rows:
        ndc11 = normalise_ndc(row.ndc)
        if ndc11 is None:
            continue
        entry = [
            row.code,
            row.drug_name,
            row.labeler,
            _number(row.package_size),
            _number(row.package_quantity),
            _number(row.units_per_item),
            _number(row.units_per_package),
        ]
        rows = ndcs.setdefault(ndc11, [])
        if all(existing[0] != row.code for existing in rows):
            rows.append(entry)
    for rows in ndcs.values():
        rows.sort()
    other = {
        row.code: [row.status_indicator, "" if _is_cpt(row.code) else row.description]
        for row in opps.rows
        if _DRUG_CODE.match(row.code) and row.code not in codes
    }
    return {
        "format": FORMAT,
        "quarter": f"{start.year}Q{(start.month - 1) // 3 + 1}",
        "start": start.isoformat(),
        "end": end.isoformat(),
        "files": {
            "crosswalk": _file_info(crosswalk),
            "pricing": _file_info(pricing),
            "opps": _file_info(opps),
        },
        "codes": codes,
        "ndcs": ndcs,
        "opps": other,
    }


def encode(doc: dict[str, Any]) -> bytes:
    """Deterministic bytes: sorted JSON, gzip with no time or name in its header."""
    raw = orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)
    return gzip.compress(raw, compresslevel=9, mtime=0)


def read_files(paths: Iterable[Path]) -> dict[str, Any]:
    """Sniff the files (or the CSVs of directories) and build their quarter's document."""
    found: dict[str, Path] = {}
    for path in paths:
        candidates = sorted(path.glob("*.csv")) if path.is_dir() else [path]
        for candidate in candidates:
            kind = cms_files.sniff(candidate)
            if kind is not None:
                if kind in found:
                    raise BuildError(f"two {kind} files: {found[kind].name}, {candidate.name}")
                found[kind] = candidate
    missing = [k for k in ("crosswalk", "pricing", "opps") if k not in found]
    if missing:
        raise BuildError(
            f"missing CMS file(s): {', '.join(missing)} (need the ASP crosswalk, the ASP "
            "payment limit file and OPPS Addendum B as CSV)"
        )

    def text(kind: str) -> str:
        return cms_files.decode(found[kind].read_bytes())

    return document(
        cms_files.read_crosswalk(text("crosswalk"), found["crosswalk"].name),
        cms_files.read_pricing(text("pricing"), found["pricing"].name),
        cms_files.read_addendum_b(text("opps"), found["opps"].name),
    )


def output_name(doc: dict[str, Any]) -> str:
    """``cms-2026q1.json.gz``."""
    return f"cms-{doc['quarter'].lower()}.json.gz"


def quarter_start(doc: dict[str, Any]) -> date:
    """The first day the document's quarter is effective."""
    return date.fromisoformat(doc["start"])
