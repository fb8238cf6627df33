"""Run the Flask app under gunicorn, in process (no shell, no generated config file).

The app is built once in the master (``preload_app``), warmed up (in-process calls of each
service on the shipped requests in ``warmup/``, so the FHIR models, rules and templates are
imported and built before the fork) and then frozen for the garbage collector (``gc.freeze``): the
workers share those objects copy-on-write and their collections no longer walk the ~100k
objects of the import graph, which showed as tens of ms of p99 latency.
"""

from __future__ import annotations

import gc
import json
import logging
from importlib import resources
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from injection_cds.web.factory import create_app

log = logging.getLogger("injection_cds")


def warm_up_requests() -> list[tuple[str, Any]]:
    """The shipped warm-up bodies: (service id, request), synthetic charts of nobody."""
    folder = resources.files("injection_cds.web").joinpath("warmup")
    found = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            service_id = entry.name.rsplit("-", 1)[0]
            found.append((service_id, json.loads(entry.read_text("utf-8"))))
    return found


def warm_up(app: Flask) -> None:
    """Run each service once in process (no HTTP, no ledger) on its warm-up requests."""
    from injection_cds.fhir import validation as fhir
    from injection_cds.protocol import pipeline

    ctx = app.extensions["injection_cds.rule_context"]
    for service_id, body in warm_up_requests():
        try:
            pipeline.call_service(
                service_id, body, ctx=ctx, base_url="http://127.0.0.1", client=None
            )
        except Exception as exc:  # a warm-up problem must not stop the service
            log.warning("warm-up of %s failed: %s", service_id, type(exc).__name__)
    fhir.validate_resource({"resourceType": "Bundle", "type": "collection"}, "warm-up")
    fhir.clear_validation_cache()  # synthetic resources are nobody's visit


def freeze_for_fork() -> None:
    """Collect once, then move every object alive now out of the collector's reach."""
    gc.collect()
    gc.freeze()


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any], config_file: str | None) -> None:
        self.options = options
        self.config_file_path = config_file
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        app = create_app(config_file=self.config_file_path)
        warm_up(app)
        freeze_for_fork()
        return app


def run_gunicorn(
    *, host: str, port: int, workers: int, config_file: str | None, timeout: int = 30
) -> None:
    """Serve until stopped. The app is built once in the master, then forked (fast start)."""
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "preload_app": True,
        "timeout": timeout,
        "accesslog": None,  # the app logs its own request lines, without PHI
        "errorlog": "-",
        "loglevel": "info",
    }
    _Gunicorn(options, config_file).run()
