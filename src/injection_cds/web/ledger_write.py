"""Record the cards of a successful service call in the ledger, without holding them up.

The write runs through the store's guard: the response waits for it at most
``database.request_wait_seconds`` (a slower write goes on in the background), and not at all
while the database is known to be down. A write that cannot be made is logged with its cause
and counted (``/readyz``); the clinician gets the cards either way.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app

from injection_cds.store.guard import Unavailable
from injection_cds.store.ledger import Store
from injection_cds.web.feedback_endpoint import STORE_KEY

log = logging.getLogger("injection_cds.web.ledger")


def record_cards(result: Any) -> None:
    """Ledger the cards of one call (``pipeline.CallResult``)."""
    store: Store = current_app.extensions[STORE_KEY]
    context = result.request.context
    patient, encounter = context.get("patientId"), context.get("encounterId")

    def write() -> int:
        return store.ledger.record(
            result.service.id,
            result.request.hook,
            result.request.hook_instance,
            result.cards,
            patient if isinstance(patient, str) else None,
            encounter if isinstance(encounter, str) else None,
        )

    try:
        store.guard.run("ledger", write, wait=store.request_wait_seconds)
    except Unavailable as exc:  # the clinician still gets the cards
        if exc.still_running:
            log.warning(
                "card ledger write not waited for (%d cards): %s; it goes on in the background",
                len(result.cards),
                exc.cause,
            )
        else:
            log.error("card ledger write skipped (%d cards): %s", len(result.cards), exc.cause)
