"""NDC normalisation: the 10-digit package forms to the 11-digit 5-4-2 claim form.

RULES.md "NDC normalisation": 4-4-2, 5-3-2 and 5-4-1 (hyphenated) get one leading zero in
the short segment; an 11-digit NDC (plain or 5-4-2) is kept; an unhyphenated 10-digit NDC is
ambiguous and is malformed, not guessed (DOC007).
"""

from __future__ import annotations

import re
from functools import lru_cache

_HYPHENATED = re.compile(r"^(\d{4,5})-(\d{3,4})-(\d{1,2})$")
_ELEVEN = re.compile(r"^\d{11}$")


@lru_cache(maxsize=4096)  # pure; several rules ask about the same few NDCs
def normalise_ndc(raw: str) -> str | None:
    """The 11-digit NDC (digits only) for a charted NDC, or None when malformed."""
    value = raw.strip()
    if _ELEVEN.match(value):
        return value
    match = _HYPHENATED.match(value)
    if not match:
        return None
    labeler, product, package = match.groups()
    lengths = (len(labeler), len(product), len(package))
    if lengths == (5, 4, 2):
        return labeler + product + package
    if lengths == (4, 4, 2):
        return "0" + labeler + product + package
    if lengths == (5, 3, 2):
        return labeler + "0" + product + package
    if lengths == (5, 4, 1):
        return labeler + product + "0" + package
    return None


def format_ndc(ndc11: str) -> str:
    """5-4-2 with hyphens, for people: ``00002759701`` -> ``00002-7597-01``."""
    return f"{ndc11[:5]}-{ndc11[5:9]}-{ndc11[9:]}"
