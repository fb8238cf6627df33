"""The charted route: its kind (SC, IM, IV push, infusion ...) and whether it is coded."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from injection_cds.core import codes
from injection_cds.core.codes import RouteKind
from injection_cds.core.facts import (
    Concept,
    Drug,
)

Json = Mapping[str, Any]
# Whether the drug reference knows a drug as an injected product (its NDC or code): the
# catalog's ``knows_injectable``, passed in by the caller so this module stays free of data.
InjectableCheck = Callable[[Drug], bool]


# --- route ---------------------------------------------------------------------------------
def classify_route(route: Concept | None) -> tuple[RouteKind | None, bool]:
    """What a route says, and whether it is coded in a route code system this service knows.

    A route charted as a body site (a SNOMED site code in ``route``), as text only, or in a
    local system is *uncoded*; its kind is still read from the text where it can be, so the
    service can tell an injection from a tablet.
    """
    if route is None:
        return None, False
    for c in route.codings:
        if not c.code:
            continue
        if c.system == codes.SNOMED and c.code in codes.SNOMED_ROUTES:
            return codes.SNOMED_ROUTES[c.code], True
        if c.system == codes.V3_ROUTE and c.code in codes.V3_ROUTES:
            return codes.V3_ROUTES[c.code], True
        if c.system == codes.V3_ROUTE and c.code in codes.V3_ROUTE_INJECTION_CODES:
            return RouteKind.OTHER_INJECTION, True
        if c.system == codes.V3_ROUTE and c.code in codes.V3_ROUTE_OTHER_CODES:
            return RouteKind.NOT_INJECTION, True
    for word in _route_words(route):
        kind = codes.TEXT_ROUTES.get(word)
        if kind is not None:
            return kind, False
    return None, False


def _route_words(route: Concept) -> list[str]:
    words = [route.text or ""]
    for c in route.codings:
        words.extend([c.code or "", c.display or ""])
    return [w.strip().upper() for w in words if w and w.strip()]
