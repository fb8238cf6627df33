"""The example configuration shipped in config/ is valid and means what it says."""

from pathlib import Path

from injection_cds.config import load_config
from injection_cds.reference.settings import rule_context_from_config

EXAMPLE = Path(__file__).resolve().parents[1] / "config" / "example.toml"


def test_example_config_is_valid_and_builds_the_rule_context() -> None:
    config = load_config(config_file=EXAMPLE, environ={})
    assert config["auth"]["issuers"][0]["iss"] == "https://ehr.example.org"
    settings = rule_context_from_config(config).settings
    assert settings.profile_for("medicaid").ndc_required
    assert settings.profile_for("medicare").repeat_convention == "59"
    assert (
        settings.profile_for("commercial", ("Organization/payer-cahaba",)).repeat_convention == "76"
    )
