"""Configuration: defaults, then ``INJECTION_CDS_*`` environment variables, then a TOML file.

Relative file paths in the TOML file (reference data, JWKS files) are read relative to the
file's own directory.

The TOML file is named by ``--config`` or ``INJECTION_CDS_CONFIG``; a dict given to
``create_app`` (tests) comes last. The merged result is validated with jsonschema, and a
mistake is reported with its path (``auth.issuers[0].iss: ...``), never a stack trace.
"""

from __future__ import annotations

import copy
import importlib
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema

from injection_cds.reference.billing_config import BILLING_SCHEMA

ENV_PREFIX = "INJECTION_CDS_"
CONFIG_FILE_ENV = "INJECTION_CDS_CONFIG"

DEFAULTS: dict[str, Any] = {
    "public_base_url": None,
    "trusted_hosts": ["127.0.0.1", "localhost", "::1"],  # without public_base_url
    "proxy_hops": 0,
    "benchmark_mode": False,
    "max_body_bytes": 5 * 1024 * 1024,
    "instance_dir": "instance",
    "database_url": None,  # None: a SQLite file in instance_dir
    "hash_key": None,  # None: generated once and kept in instance_dir
    "log_level": "INFO",
    "cors_allow_origin": "*",
    # request_seconds: a hook call's time, end to end; max_resources: the resources one call
    # may carry (a Bundle counts its entries), more is a 413 (2,000 read in about a second).
    "budget": {"request_seconds": 3.0, "max_resources": 2000},
    "database": {
        "connect_timeout_seconds": 2.0,  # libpq's minimum is 2 s
        "statement_timeout_ms": 5000,
        "request_wait_seconds": 0.25,  # the most a hook call waits for the ledger/replay check
        "retry_seconds": 5.0,  # after a failure, requests skip the database this long
        "stall_seconds": 10.0,  # a call running this long: the database stalled
    },
    "fhir": {
        "allow_http_loopback": False,
        "connect_timeout": 2.0,
        "read_timeout": 5.0,
        "fetch_budget_seconds": 2.0,  # all FHIR fetches of one call, in parallel
        "max_response_bytes": 8 * 1024 * 1024,
        "max_pages": 20,
        "allowed_servers": [],  # without issuers: the fhirServer bases allowed ([] = any)
        "validation_cache_size": 4096,  # resources known valid, remembered per process
        "fast_validation": True,  # structural fast path before the fhir.resources models
        "strict": False,  # True: any resource that is not valid R4 is a 422 (no lenient reading)
    },
    "billing": {},
    "auth": {},
    "analytics": {},
}

# Environment variable (after the prefix) -> (path in the config, type).
ENVIRONMENT: dict[str, tuple[tuple[str, ...], type]] = {
    "PUBLIC_BASE_URL": (("public_base_url",), str),
    "MAX_BODY_BYTES": (("max_body_bytes",), int),
    "INSTANCE_DIR": (("instance_dir",), str),
    "DATABASE_URL": (("database_url",), str),
    "HASH_KEY": (("hash_key",), str),
    "LOG_LEVEL": (("log_level",), str),
    "CORS_ALLOW_ORIGIN": (("cors_allow_origin",), str),
    "FHIR_ALLOW_HTTP_LOOPBACK": (("fhir", "allow_http_loopback"), bool),
    "FHIR_CONNECT_TIMEOUT": (("fhir", "connect_timeout"), float),
    "FHIR_READ_TIMEOUT": (("fhir", "read_timeout"), float),
    "FHIR_VALIDATION_CACHE_SIZE": (("fhir", "validation_cache_size"), int),
    "FHIR_FAST_VALIDATION": (("fhir", "fast_validation"), bool),
    "FHIR_FETCH_BUDGET_SECONDS": (("fhir", "fetch_budget_seconds"), float),
    "FHIR_STRICT": (("fhir", "strict"), bool),
    "BUDGET_REQUEST_SECONDS": (("budget", "request_seconds"), float),
    "BUDGET_MAX_RESOURCES": (("budget", "max_resources"), int),
    "PROXY_HOPS": (("proxy_hops",), int),
    "BENCHMARK_MODE": (("benchmark_mode",), bool),
    "ANALYTICS_ADMIN_TOKEN": (("analytics", "admin_token"), str),
    "DEFAULT_PAYER_CLASS": (("billing", "default_payer_class"), str),
}

# The components that own configuration keys, each declaring them explicitly in a
# ``get_configs_info()`` (name -> JSON Schema), the way sqlfluff plugins declare theirs: the
# schema is the same whatever else was imported before (no registration side effects).
COMPONENTS = (
    "injection_cds.web.settings",  # public URL, hosts, proxy, budget, analytics
    "injection_cds.web.auth",  # auth
    "injection_cds.store.ledger",  # database_url, hash_key, database timeouts, comments
    "injection_cds.fhir.prefetch",  # fhir
    "injection_cds.protocol.audience",  # cards (audience per hook)
)


def get_configs_info() -> dict[str, dict[str, Any]]:
    """Every component's declared keys, collected."""
    declared: dict[str, dict[str, Any]] = {"billing": BILLING_SCHEMA}
    for name in COMPONENTS:
        module = importlib.import_module(name)
        for key, fragment in module.get_configs_info().items():
            if key in declared:
                raise RuntimeError(f"configuration key {key!r} declared twice ({name})")
            declared[key] = fragment
    return declared


def schema() -> dict[str, Any]:
    """The JSON Schema of the whole configuration."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "instance_dir": {"type": "string"},
            "log_level": {"enum": ["DEBUG", "INFO", "WARNING", "ERROR"]},
            **get_configs_info(),
        },
    }


class ConfigError(ValueError):
    """The configuration is not valid; the message says where and why."""


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _coerce(raw: str, kind: type, name: str) -> Any:
    if kind is bool:
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{name}: expected true or false")
    try:
        return kind(raw)
    except ValueError:
        raise ConfigError(f"{name}: expected a {kind.__name__}") from None


def from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """The configuration the ``INJECTION_CDS_*`` variables give."""
    found: dict[str, Any] = {}
    for suffix, (path, kind) in ENVIRONMENT.items():
        name = ENV_PREFIX + suffix
        if name not in environ or environ[name] == "":
            continue
        target = found
        for part in path[:-1]:
            target = target.setdefault(part, {})
        target[path[-1]] = _coerce(environ[name], kind, name)
    return found


def from_toml(path: Path) -> dict[str, Any]:
    """The configuration in a TOML file."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except OSError as exc:  # a directory, no permission...
        raise ConfigError(f"{path}: cannot read the configuration file ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not valid TOML (not UTF-8 text)") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None


def _resolve_file_paths(config: dict[str, Any], base_dir: Path) -> dict[str, Any]:
    """Make the file paths a TOML file names relative to that file's directory."""

    def resolve(value: Any) -> Any:
        if isinstance(value, str) and value and not Path(value).is_absolute():
            return str(base_dir / value)
        return value

    billing = config.get("billing")
    if isinstance(billing, dict):
        if "asp_crosswalk" in billing:
            billing["asp_crosswalk"] = resolve(billing["asp_crosswalk"])
        mue = billing.get("mue")
        if isinstance(mue, dict):
            for table in mue:
                mue[table] = resolve(mue[table])
        schedules = billing.get("fee_schedules")
        if isinstance(schedules, dict):
            for schedule in schedules.values():
                if isinstance(schedule, dict) and "path" in schedule:
                    schedule["path"] = resolve(schedule["path"])
    auth = config.get("auth")
    if isinstance(auth, dict):
        for issuer in auth.get("issuers") or ():
            if isinstance(issuer, dict) and "jwks_file" in issuer:
                issuer["jwks_file"] = resolve(issuer["jwks_file"])
    return config


def validate(config: Mapping[str, Any]) -> None:
    """Raise ConfigError naming the first problem, by path."""
    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        error = errors[0]
        where = ""
        for part in error.absolute_path:
            where += f"[{part}]" if isinstance(part, int) else f".{part}"
        raise ConfigError(f"{where.lstrip('.') or 'top level'}: {error.message}")


def load_config(
    overrides: Mapping[str, Any] | None = None,
    *,
    config_file: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Defaults, then the environment, then the TOML file, then ``overrides``; validated."""
    env = os.environ if environ is None else environ
    config = _merge(copy.deepcopy(DEFAULTS), from_environment(env))
    file_name = config_file or env.get(CONFIG_FILE_ENV)
    if file_name:
        path = Path(file_name)
        config = _merge(config, _resolve_file_paths(from_toml(path), path.resolve().parent))
    if overrides:
        config = _merge(config, overrides)
    validate(config)
    return config
