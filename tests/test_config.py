"""Configuration: defaults < INJECTION_CDS_* environment < TOML file < dict; errors by path."""

from __future__ import annotations

from pathlib import Path

import pytest

from injection_cds.config import DEFAULTS, ConfigError, load_config
from injection_cds.web.factory import create_app


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults() -> None:
    config = load_config(environ={})
    assert config["max_body_bytes"] == 5 * 1024 * 1024
    assert config["fhir"]["allow_http_loopback"] is False
    assert config["cors_allow_origin"] == "*"
    assert config["fhir"]["connect_timeout"] == DEFAULTS["fhir"]["connect_timeout"]


def test_precedence_defaults_env_toml_dict(tmp_path: Path) -> None:
    toml = write(
        tmp_path,
        """
log_level = "WARNING"
max_body_bytes = 20000

[fhir]
read_timeout = 3.5
max_pages = 7
""",
    )
    environ = {
        "INJECTION_CDS_LOG_LEVEL": "DEBUG",
        "INJECTION_CDS_MAX_BODY_BYTES": "10000",
        "INJECTION_CDS_CORS_ALLOW_ORIGIN": "https://sandbox.cds-hooks.org",
        "INJECTION_CDS_FHIR_CONNECT_TIMEOUT": "0.5",
        "INJECTION_CDS_FHIR_READ_TIMEOUT": "1.5",
        "INJECTION_CDS_FHIR_ALLOW_HTTP_LOOPBACK": "yes",
    }
    config = load_config({"max_body_bytes": 30000}, config_file=toml, environ=environ)
    assert config["max_body_bytes"] == 30000  # dict over TOML over env
    assert config["log_level"] == "WARNING"  # TOML over env
    assert config["fhir"]["read_timeout"] == 3.5  # TOML over env, in a section
    assert config["fhir"]["connect_timeout"] == 0.5  # env over defaults, TOML silent
    assert config["fhir"]["allow_http_loopback"] is True  # env, coerced
    assert config["fhir"]["max_pages"] == 7  # TOML over defaults
    assert config["cors_allow_origin"] == "https://sandbox.cds-hooks.org"
    assert config["instance_dir"] == DEFAULTS["instance_dir"]  # nobody set it


def test_config_file_named_by_environment(tmp_path: Path) -> None:
    toml = write(tmp_path, 'cors_allow_origin = "https://ehr.example.org"\n')
    config = load_config(environ={"INJECTION_CDS_CONFIG": str(toml)})
    assert config["cors_allow_origin"] == "https://ehr.example.org"


def test_explicit_file_wins_over_the_environment_file(tmp_path: Path) -> None:
    named = write(tmp_path, 'cors_allow_origin = "https://a.example"\n', "a.toml")
    explicit = write(tmp_path, 'cors_allow_origin = "https://b.example"\n', "b.toml")
    config = load_config(config_file=explicit, environ={"INJECTION_CDS_CONFIG": str(named)})
    assert config["cors_allow_origin"] == "https://b.example"


def test_dict_merges_sections_instead_of_replacing_them() -> None:
    config = load_config({"fhir": {"max_pages": 3}}, environ={})
    assert config["fhir"]["max_pages"] == 3
    assert config["fhir"]["read_timeout"] == DEFAULTS["fhir"]["read_timeout"]


def test_create_app_reads_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INJECTION_CDS_MAX_BODY_BYTES", "8192")
    monkeypatch.setenv("INJECTION_CDS_INSTANCE_DIR", str(tmp_path / "instance"))
    app = create_app({"cors_allow_origin": "https://x.example"})
    try:
        assert app.config["INJECTION_CDS"]["max_body_bytes"] == 8192
        assert app.config["MAX_CONTENT_LENGTH"] == 8192
        response = app.test_client().get("/healthz")
        assert response.headers["Access-Control-Allow-Origin"] == "https://x.example"
    finally:
        app.extensions["injection_cds.fhir_client"].session.close()


def test_create_app_reads_a_config_file(tmp_path: Path) -> None:
    toml = write(tmp_path, f'instance_dir = "{tmp_path / "i"}"\nmax_body_bytes = 4096\n')
    app = create_app(config_file=str(toml))
    try:
        assert app.config["MAX_CONTENT_LENGTH"] == 4096
    finally:
        app.extensions["injection_cds.fhir_client"].session.close()


# --- errors -------------------------------------------------------------------------------


def test_invalid_toml_names_the_file_and_line(tmp_path: Path) -> None:
    toml = write(tmp_path, 'log_level = "INFO"\nmax_body_bytes = = 3\n')
    with pytest.raises(ConfigError) as caught:
        load_config(config_file=toml, environ={})
    message = str(caught.value)
    assert str(toml) in message
    assert "not valid TOML" in message
    assert "line 2" in message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(config_file=tmp_path / "nope.toml", environ={})


def test_directory_instead_of_a_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(config_file=tmp_path, environ={})


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('cors_allow_origin = "caf\u00e9"\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(config_file=path, environ={})


@pytest.mark.parametrize(
    ("toml", "where"),
    [
        ('max_body_bytes = "big"\n', "max_body_bytes:"),
        ("max_body_bytes = 10\n", "max_body_bytes:"),
        ('log_level = "LOUD"\n', "log_level:"),
        ('public_base_url = "ftp://x"\n', "public_base_url:"),
        ("[fhir]\nread_timeout = 0\n", "fhir.read_timeout:"),
        ('[fhir]\nallow_http_loopback = "yes"\n', "fhir.allow_http_loopback:"),
        ("[fhir]\nmax_pages = 0\n", "fhir.max_pages:"),
        ("[fhir]\nproxy = true\n", "fhir:"),
        ("colour = 1\n", "top level:"),
        ('hash_key = "short"\n', "hash_key:"),
    ],
)
def test_schema_errors_name_their_path(tmp_path: Path, toml: str, where: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(config_file=write(tmp_path, toml), environ={})
    assert str(caught.value).startswith(where), str(caught.value)


def test_schema_errors_in_the_dict_name_their_path() -> None:
    with pytest.raises(ConfigError, match=r"^fhir\.connect_timeout:"):
        load_config({"fhir": {"connect_timeout": -1}}, environ={})


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("INJECTION_CDS_MAX_BODY_BYTES", "lots", "expected a int"),
        ("INJECTION_CDS_MAX_BODY_BYTES", "1.5", "expected a int"),
        ("INJECTION_CDS_FHIR_READ_TIMEOUT", "soon", "expected a float"),
        ("INJECTION_CDS_FHIR_ALLOW_HTTP_LOOPBACK", "maybe", "expected true or false"),
    ],
)
def test_environment_coercion_errors_name_the_variable(name: str, value: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(environ={name: value})
    assert str(caught.value).startswith(f"{name}: {says}")
    assert value not in str(caught.value)


@pytest.mark.parametrize(
    ("value", "expected"), [("1", True), ("TRUE", True), ("off", False), ("no", False)]
)
def test_environment_booleans(value: str, expected: bool) -> None:
    config = load_config(environ={"INJECTION_CDS_FHIR_ALLOW_HTTP_LOOPBACK": value})
    assert config["fhir"]["allow_http_loopback"] is expected


def test_empty_environment_variable_is_ignored() -> None:
    config = load_config(environ={"INJECTION_CDS_MAX_BODY_BYTES": ""})
    assert config["max_body_bytes"] == DEFAULTS["max_body_bytes"]


def test_environment_value_checked_by_the_schema() -> None:
    with pytest.raises(ConfigError, match="^max_body_bytes:"):
        load_config(environ={"INJECTION_CDS_MAX_BODY_BYTES": "12"})


def test_create_app_refuses_a_bad_configuration() -> None:
    with pytest.raises(ConfigError, match="^log_level:"):
        create_app({"log_level": "CHATTY"})
