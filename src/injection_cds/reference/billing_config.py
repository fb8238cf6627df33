"""The ``[billing]`` configuration section: payer profiles and the CMS files to load.

``BILLING_SCHEMA`` is the JSON Schema fragment config.py validates the section with;
``settings_from_config`` builds the RuleSettings (loading the files it names) and
``context_from_config`` the whole RuleContext (the catalog gains the ASP crosswalk). An empty
section gives the defaults: the service works with no configuration at all.

Example (TOML)::

    [billing]
    default_payer_class = "commercial"
    asp_crosswalk = "/data/cms/2026Q1_ASP_NDC-HCPCS_Crosswalk.csv"
    fda_ndc_packages = "/data/fda/package.txt"   # FDA NDC Directory: containers (JW/JZ)
    sad_list = "/data/mac/noridian-sad-list.csv"  # a MAC's SAD list (replaces the shipped one)
    mue.practitioner = "/data/cms/MCR_MUE_PractitionerServices_Eff_2026-01-01.csv"
    mue.outpatient_hospital = "/data/cms/MCR_MUE_OutpatientHospitalServices_Eff_2026-01-01.csv"
    fee_schedules.mpfs-local = { path = "/data/fees/mpfs-2026.csv", year = 2026 }

    [billing.profiles.medicare]
    repeat_convention = "59"
    fee_schedule = "mpfs-local"

    [billing.profiles.medicaid]
    ndc_required = true
    discarded_drug_modifiers = true   # this state Medicaid also wants JW/JZ
    ndc_mass_unit = "GR"

    [billing.profiles."Organization/payer-cahaba"]
    repeat_convention = "76"
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from injection_cds.core import codes
from injection_cds.core.context import PayerProfile, RuleContext, RuleSettings
from injection_cds.reference.catalog import DrugCatalog
from injection_cds.reference.containers import ContainerTable, load_fda_package_file
from injection_cds.reference.loaders import load_asp_crosswalk, load_fee_schedule, load_mue_table
from injection_cds.reference.self_administered import SadList, load_mac_sad_list

_POS_LIST: dict[str, Any] = {"type": "array", "items": {"type": "string", "pattern": "^\\d{2}$"}}

BILLING_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "default_payer_class": {"type": "string", "minLength": 1},
        "facility_places_of_service": _POS_LIST,
        "telehealth_places_of_service": _POS_LIST,
        "inpatient_places_of_service": _POS_LIST,
        "asp_crosswalk": {"type": "string", "minLength": 1},
        "fda_ndc_packages": {"type": "string", "minLength": 1},
        "sad_list": {"type": "string", "minLength": 1},
        "mue": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                codes.MUE_PRACTITIONER: {"type": "string", "minLength": 1},
                codes.MUE_OUTPATIENT_HOSPITAL: {"type": "string", "minLength": 1},
            },
        },
        "fee_schedules": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "required": ["path"],
                "properties": {
                    "path": {"type": "string", "minLength": 1},
                    "year": {"type": "integer", "minimum": 1990, "maximum": 2100},
                },
            },
        },
        "profiles": {
            "type": "object",
            "description": "by payer class (medicare, medicaid, commercial, default) or payer id",
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "repeat_convention": {"enum": sorted(codes.REPEAT_CONVENTIONS)},
                    "ndc_required": {"type": "boolean"},
                    "mue_table": {"enum": [codes.MUE_PRACTITIONER, codes.MUE_OUTPATIENT_HOSPITAL]},
                    "fee_schedule": {"type": "string", "minLength": 1},
                    "self_administered_drugs": {"type": "array", "items": {"type": "string"}},
                    "sad_list": {"type": "boolean"},
                    "discarded_drug_modifiers": {"type": "boolean"},
                    "ndc_mass_unit": {"enum": [codes.NDC_UNIT_MG, codes.NDC_UNIT_GRAM]},
                    "complex_biologics": {"type": "boolean"},
                    "chemo_excluded_hcpcs": {"type": "array", "items": {"type": "string"}},
                    "state_supplied_product": {"enum": list(codes.STATE_SUPPLIED_PRODUCT)},
                    "bilateral": {"enum": list(codes.BILATERAL_CONVENTIONS)},
                },
            },
        },
    },
}


def _profile(name: str, raw: Mapping[str, Any]) -> PayerProfile:
    default = PayerProfile()
    return PayerProfile(
        name=name,
        repeat_convention=raw.get("repeat_convention", default.repeat_convention),
        ndc_required=bool(raw.get("ndc_required", default.ndc_required)),
        mue_table=raw.get("mue_table"),
        fee_schedule=raw.get("fee_schedule"),
        self_administered_drugs=tuple(
            raw.get("self_administered_drugs", default.self_administered_drugs)
        ),
        ndc_mass_unit=raw.get("ndc_mass_unit", default.ndc_mass_unit),
        sad_list=raw.get("sad_list"),
        discarded_drug_modifiers=raw.get("discarded_drug_modifiers"),
        complex_biologics=raw.get("complex_biologics", default.complex_biologics),
        chemo_excluded_hcpcs=tuple(
            code.upper() for code in raw.get("chemo_excluded_hcpcs", default.chemo_excluded_hcpcs)
        ),
        state_supplied_product=raw.get("state_supplied_product"),
        bilateral=raw.get("bilateral", default.bilateral),
    )


def settings_from_config(section: Mapping[str, Any]) -> RuleSettings:
    """RuleSettings from a validated ``[billing]`` section, loading the MUE and fee files."""
    default = RuleSettings()
    profiles = {name: _profile(name, raw) for name, raw in section.get("profiles", {}).items()}
    mue_tables = {
        kind: load_mue_table(Path(path), kind) for kind, path in section.get("mue", {}).items()
    }
    fee_schedules = {
        name: load_fee_schedule(Path(raw["path"]), name, raw.get("year"))
        for name, raw in section.get("fee_schedules", {}).items()
    }
    return RuleSettings(
        default_payer_class=section.get("default_payer_class", default.default_payer_class),
        facility_places_of_service=frozenset(
            section.get("facility_places_of_service", default.facility_places_of_service)
        ),
        telehealth_places_of_service=frozenset(
            section.get("telehealth_places_of_service", default.telehealth_places_of_service)
        ),
        inpatient_places_of_service=frozenset(
            section.get("inpatient_places_of_service", default.inpatient_places_of_service)
        ),
        profiles=profiles,
        mue_tables=mue_tables,
        fee_schedules=fee_schedules,
    )


def context_from_config(section: Mapping[str, Any]) -> RuleContext:
    """The RuleContext: settings, and the shipped catalog plus the ASP crosswalk if named."""
    catalog = DrugCatalog.shipped()
    if section.get("asp_crosswalk"):
        crosswalk = load_asp_crosswalk(Path(section["asp_crosswalk"]))
        catalog = catalog.with_crosswalk(
            crosswalk.ndc_to_hcpcs, tuple(crosswalk.descriptors.values())
        )
    containers = ContainerTable.shipped()
    if section.get("fda_ndc_packages"):
        containers = containers.merged(load_fda_package_file(Path(section["fda_ndc_packages"])))
    sad_list = SadList.shipped()
    if section.get("sad_list"):
        sad_list = load_mac_sad_list(Path(section["sad_list"]))
    return RuleContext(
        settings=settings_from_config(section),
        catalog=catalog,
        containers=containers,
        sad_list=sad_list,
    )
