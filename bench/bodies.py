"""Benchmark request bodies in which every request charts a *different* administration.

An EHR sends the same Encounter, Conditions, Coverage and Patient with every hook call of a
visit, but each call charts a new MedicationAdministration. A benchmark that posts one
identical body over and over would let a validation cache (``fhir.validation_cache_size``)
answer for the administrations too, which flatters the service. So a body is a *template*:

- every MedicationAdministration id ``X`` becomes ``X-@N@`` everywhere it occurs (the
  resource, its Bundle ``fullUrl``, and ChargeItem.service references to it, so the rules
  still match them), and
- every ``effectiveDateTime`` gets fractional seconds ``.@F@``,

and ``@N@`` / ``@F@`` are replaced by a per-request token (run, thread, counter) and a
6-digit fraction: by ``bench/post.lua`` under wrk, by ``instantiate`` in process. The
Medications (drug, lot, expiry) and the rest of the visit stay as they are.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from injection_cds.devtools.synthetic import hook_request, request_resources

ID_TOKEN = "@N@"
FRACTION_TOKEN = "@F@"
_EFFECTIVE = re.compile(r'("effectiveDateTime":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)')


def template(body: dict[str, Any]) -> str:
    """The JSON text of ``body`` with the per-request placeholders put in."""
    text = orjson.dumps(body).decode()
    ids = sorted(
        {
            str(r["id"])
            for r in request_resources(body)
            if r.get("resourceType") == "MedicationAdministration" and r.get("id")
        },
        key=len,
        reverse=True,
    )
    for admin_id in ids:
        text = text.replace(admin_id, f"{admin_id}-{ID_TOKEN}")
    return _EFFECTIVE.sub(rf"\1.{FRACTION_TOKEN}", text)


def instantiate(text: str, token: str, counter: int) -> bytes:
    """One request body: ``token`` must be FHIR-id characters (``[A-Za-z0-9.-]``)."""
    return (
        text.replace(ID_TOKEN, token).replace(FRACTION_TOKEN, f"{counter % 1_000_000:06d}").encode()
    )


def template_for(service: str, administrations: int, seed: int, contained: bool) -> str:
    """The template of the synthetic request of a scenario."""
    return template(
        hook_request(service, n_administrations=administrations, seed=seed, contained=contained)
    )
