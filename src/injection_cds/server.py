"""Run the Flask app under gunicorn, in process (no shell, no generated config file)."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from injection_cds.app import create_app


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any], config_file: str | None) -> None:
        self.options = options
        self.config_file_path = config_file
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return create_app(config_file=self.config_file_path)


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
