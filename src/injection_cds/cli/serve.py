"""``injection-cds serve``: the service under gunicorn, on its embedded defaults."""

from __future__ import annotations

import click

from injection_cds.config import ConfigError, load_config

# Where `make run` and `injection-cds serve` listen by default; `check` links cards there too.
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


def local_base_url() -> str:
    """The URL of a server started on the defaults (the base of card links without one)."""
    return f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"


@click.command()
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address to listen on.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None)
@click.option("--timeout", default=30, show_default=True, type=int, help="Worker timeout (s).")
@click.option(
    "--threads", default=32, show_default=True, type=click.IntRange(1, 256), help="Per worker."
)
@click.option(
    "--worker-class",
    type=click.Choice(["gthread", "sync"]),
    default="gthread",
    show_default=True,
    help="gunicorn worker model (README: Operations).",
)
def serve(
    host: str,
    port: int,
    workers: int,
    config_file: str | None,
    timeout: int,
    threads: int,
    worker_class: str,
) -> None:
    """Run the service under gunicorn (a production WSGI server)."""
    from injection_cds.web.server import StartupError, run_gunicorn

    try:
        load_config(config_file=config_file)  # fail fast, before anything is opened
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from None
    try:
        run_gunicorn(
            host=host,
            port=port,
            workers=workers,
            config_file=config_file,
            timeout=timeout,
            threads=threads,
            worker_class=worker_class,
        )
    except StartupError as exc:
        raise click.ClickException(str(exc)) from None
