from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from injection_cds.core import codes
from injection_cds.reference.billing_config import (
    BILLING_SCHEMA,
    context_from_config,
    settings_from_config,
)
from injection_cds.reference.loaders import (
    ReferenceFileError,
    load_asp_crosswalk,
    load_fee_schedule,
    load_mue_table,
    parse_dosage,
    read_mue_table,
)

DATA = Path(__file__).resolve().parent / "data"


def test_asp_crosswalk() -> None:
    crosswalk = load_asp_crosswalk(DATA / "asp_crosswalk_sample.csv")
    assert crosswalk.ndc_to_hcpcs["00409475503"] == "J2405"
    assert crosswalk.ndc_to_hcpcs["60505075104"] == "J0696"
    assert crosswalk.descriptors["J2405"].amount == Decimal(1)
    assert crosswalk.descriptors["J2405"].unit == "mg"
    assert crosswalk.descriptors["J9999"].amount is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("250 MG", (Decimal(250), "mg")),
        ("1,000 MCG", (Decimal(1000), "mcg")),
        ("5 UNITS", (Decimal(5), "[iU]")),
        ("per vial", None),
    ],
)
def test_parse_dosage(text: str, expected: tuple[Decimal, str] | None) -> None:
    assert parse_dosage(text) == expected


def test_mue_tables() -> None:
    table = load_mue_table(DATA / "mue_practitioner_sample.csv", codes.MUE_PRACTITIONER)
    assert table.entries["J3301"].limit == 8 and table.entries["J3301"].mai == "3"
    assert table.entries["96372"].mai == "1"
    hospital = load_mue_table(
        DATA / "mue_outpatient_hospital_sample.csv", codes.MUE_OUTPATIENT_HOSPITAL
    )
    assert hospital.entries["J0696"].limit == 10
    with pytest.raises(ReferenceFileError):
        read_mue_table("a,b\n1,2\n", codes.MUE_PRACTITIONER, "bad.csv")


def test_fee_schedule() -> None:
    schedule = load_fee_schedule(DATA / "fee_schedule_sample.csv", "test", 2026)
    assert schedule.rate("96372") == Decimal("10.00")
    assert schedule.rate("J1885", facility=True) == Decimal("0.20")
    assert schedule.rate("96372", facility=True) == Decimal("10.00")
    assert schedule.rate("99999") is None


def test_config_defaults_and_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate({}, BILLING_SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"profiles": {"medicare": {"repeat_convention": "25"}}}, BILLING_SCHEMA)
    settings = settings_from_config({})
    assert settings.profile_for("commercial").repeat_convention == "59"
    configured = settings_from_config(
        {"profiles": {"Organization/cahaba": {"repeat_convention": "76"}}}
    )
    assert configured.profile_for("medicare", ("Organization/cahaba",)).repeat_convention == "76"
    ctx = context_from_config({"asp_crosswalk": str(DATA / "asp_crosswalk_sample.csv")})
    assert ctx.catalog.ndc_to_hcpcs["00409475503"] == "J2405"
