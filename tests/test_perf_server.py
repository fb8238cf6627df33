"""The gunicorn master's warm-up runs every service in process and leaves no trace (issue 5)."""

from __future__ import annotations

import gc
from pathlib import Path

from injection_cds.fhir import validation as fhir
from injection_cds.web import server
from injection_cds.web.factory import create_app


def test_warm_up_leaves_no_cards_and_no_cached_resources(tmp_path: Path) -> None:
    app = create_app({"instance_dir": str(tmp_path)})
    store = app.extensions["injection_cds.store.ledger"]
    server.warm_up(app)
    assert fhir.validation_cache_info()["entries"] == 0
    assert store.queries.rule_counts() == []


def test_freeze_for_fork_moves_objects_out_of_the_collector() -> None:
    try:
        server.freeze_for_fork()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
