"""Coder cases for JW/JZ, SAD, patient supply, places of service, critical stops and ESAs.

Each case is what a certified coder writes down: the chart (a whole CDS Hooks request, FHIR
R4) and, typed by hand below — never computed by the service — the claim lines they would
code, with the source that says so. Written to ``fixtures/coder/<family>/<name>.json``
(``{"request", "expected": {"lines", "source"}, "settings"?}``) and, for the rule fixtures
that show each new rule firing or not, to ``fixtures/rules/<RULE>/``.

    .venv/bin/python tests/coder_case_factory.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CODER_DIR = ROOT / "fixtures" / "coder"
RULES_DIR = ROOT / "fixtures" / "rules"

CPT = "http://www.ama-assn.org/go/cpt"
HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
NDC = "http://hl7.org/fhir/sid/ndc"
ICD = "http://hl7.org/fhir/sid/icd-10-cm"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
POS = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
ROLE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
TYPOLOGY = "urn:oid:2.16.840.1.113883.3.221.5"
DISCARDED = "https://injection-cds.org/fhir/StructureDefinition/discarded-amount"
SUPPLIED = "https://injection-cds.org/fhir/StructureDefinition/patient-supplied"
IM = {"coding": [{"system": SNOMED, "code": "78421000", "display": "Intramuscular route"}]}
SC = {"coding": [{"system": SNOMED, "code": "34206005", "display": "Subcutaneous route"}]}
IV_PUSH = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/v3-RouteOfAdministration",
            "code": "IVPUSH",
        }
    ]
}
SITES = ["LD", "RD", "LG", "RG"]
DAY = "2026-11-24"

PAYERS = {"medicare": "1", "medicaid": "2", "commercial": "5"}

S_JWJZ = "Pub 100-04 ch.17 §40; CMS JW/JZ modifier FAQs; MLN MM13056"
S_NORIDIAN = "Noridian 'Modifier JZ': discard inside the billed unit = JZ, no JW line"
S_UNITS = "HCPCS descriptor units, ceil(dose ÷ descriptor) (SOURCES-96372.md §3.4)"
S_SAD = "Pub 100-02 ch.15 §50.2 (SAD exclusion, Medicare; drug and administration)"
S_SUPPLIED = "Pub 100-02 ch.15 §50.4-50.5: the drug is billed by whoever bought it"
S_OPPS = "Pub 100-04 ch.4 §230.2; OPPS Addendum B (96372 SI Q1; G0463)"
S_INPATIENT = "Part A inpatient stay: drugs and administration in the DRG payment"
S_TWO_MIDNIGHT = "42 CFR 412.3(d) two-midnight rule; an office visit does not span midnight"
S_ESA = "NCD 110.21; ASP crosswalk 2026Q1 (J0885/1000 u, Q4081/100 u, J0881/J0882 1 mcg)"
S_STOP = "an expired product or an unidentified drug is not billable (SOURCES-96372.md §4.1)"


def medication(
    name: str,
    ndc: str | None = None,
    hcpcs: str | None = None,
    expires: str = "2028-03-31",
    strength: tuple[float, str, float, str] | None = None,
    extension: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A contained Medication with a lot and expiry."""
    coding = []
    if ndc:
        coding.append({"system": NDC, "code": ndc})
    if hcpcs:
        coding.append({"system": HCPCS, "code": hcpcs})
    med: dict[str, Any] = {
        "resourceType": "Medication",
        "id": "med1",
        "code": {"text": name, "coding": coding} if coding else {"text": name},
        "batch": {"lotNumber": "LOT42", "expirationDate": expires},
    }
    if strength:
        value, unit, per, per_unit = strength
        med["ingredient"] = [
            {
                "itemCodeableConcept": {"text": name},
                "strength": {
                    "numerator": {"value": value, "unit": unit, "system": UCUM, "code": unit},
                    "denominator": {
                        "value": per,
                        "unit": per_unit,
                        "system": UCUM,
                        "code": per_unit,
                    },
                },
            }
        ]
    if extension:
        med["extension"] = extension
    return med


def administration(
    ident: str,
    med: dict[str, Any] | None,
    dose: float,
    unit: str,
    route: dict[str, Any] = IM,
    *,
    site: int = 0,
    extension: list[dict[str, Any]] | None = None,
    note: str | None = None,
    category: str | None = None,
    method: str | None = None,
    part_of: str | None = None,
    reference: str | None = None,
    time: str = "10:15",
) -> dict[str, Any]:
    """A completed MedicationAdministration."""
    resource: dict[str, Any] = {
        "resourceType": "MedicationAdministration",
        "id": ident,
        "status": "completed",
        "subject": {"reference": "Patient/pat-1001"},
        "context": {"reference": "Encounter/enc-5001"},
        "effectiveDateTime": f"{DAY}T{time}:00-05:00",
        "performer": [{"actor": {"reference": "Practitioner/rn-204"}}],
        "request": {"reference": f"MedicationRequest/ord-{part_of or ident}"},
        "reasonReference": [{"reference": "Condition/cond-1"}],
        "dosage": {
            "dose": {"value": dose, "unit": unit, "system": UCUM, "code": unit},
            "route": route,
            "site": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v2-0163",
                        "code": SITES[site],
                    }
                ]
            },
        },
    }
    if reference:
        resource["medicationReference"] = {"reference": reference}
    elif med is not None:
        resource["contained"] = [med]
        resource["medicationReference"] = {"reference": "#med1"}
    if extension:
        resource["extension"] = extension
    if note:
        resource["note"] = [{"text": note}]
    if category:
        resource["category"] = {"text": category}
    if method:
        resource["dosage"]["method"] = {"text": method}
    if part_of:
        resource["partOf"] = [{"reference": f"MedicationAdministration/{part_of}"}]
    return resource


def quantity(value: float, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def discarded(value: float, unit: str) -> list[dict[str, Any]]:
    return [{"url": DISCARDED, "valueQuantity": quantity(value, unit)}]


def request(
    administrations: list[dict[str, Any]],
    *,
    payer: str = "medicare",
    diagnoses: tuple[str, ...] = ("N39.0",),
    encounter_class: str = "AMB",
    period: tuple[str, str | None] = (f"{DAY}T09:50:00-05:00", None),
    location: dict[str, Any] | None = None,
    em_code: str | None = None,
) -> dict[str, Any]:
    """The whole hook request: context administrations, prefetched encounter and the rest."""
    encounter: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": "enc-5001",
        "status": "in-progress",
        "class": {"system": ACT, "code": encounter_class},
        "subject": {"reference": "Patient/pat-1001"},
        "period": {"start": period[0], **({"end": period[1]} if period[1] else {})},
    }
    if em_code:
        encounter["type"] = [{"coding": [{"system": CPT, "code": em_code}]}]
    extra: list[dict[str, Any]] = []
    if location is not None:
        encounter["location"] = [{"location": {"reference": "Location/loc-1"}}]
        extra.append({"resourceType": "Location", "id": "loc-1", **location})
    conditions = [
        {
            "resourceType": "Condition",
            "id": f"cond-{n + 1}",
            "subject": {"reference": "Patient/pat-1001"},
            "encounter": {"reference": "Encounter/enc-5001"},
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                            "code": "encounter-diagnosis",
                        }
                    ]
                }
            ],
            "code": {"coding": [{"system": ICD, "code": code}]},
        }
        for n, code in enumerate(diagnoses)
    ]
    coverage = {
        "resourceType": "Coverage",
        "id": "cov-1",
        "status": "active",
        "type": {"coding": [{"system": TYPOLOGY, "code": PAYERS[payer]}]},
        "beneficiary": {"reference": "Patient/pat-1001"},
        "payor": [{"reference": f"Organization/payer-{payer}"}],
    }
    return {
        "hook": "org.injectioncds.medicationadministration-sign",
        "hookInstance": "7c1e2f3a-4b5d-4e6f-8a9b-0c1d2e3f4a5b",
        "context": {
            "userId": "Practitioner/rn-204",
            "patientId": "pat-1001",
            "encounterId": "enc-5001",
            "medicationAdministrations": {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [{"resource": a} for a in administrations],
            },
        },
        "prefetch": {
            "encounter": encounter,
            "conditions": {
                "resourceType": "Bundle",
                "type": "searchset",
                "entry": [{"resource": r} for r in conditions + extra],
            },
            "coverage": {
                "resourceType": "Bundle",
                "type": "searchset",
                "entry": [{"resource": coverage}],
            },
            "patient": {"resourceType": "Patient", "id": "pat-1001", "birthDate": "1950-02-11"},
        },
    }


def line(
    code: str,
    units: int,
    modifiers: tuple[str, ...] = (),
    claim: str = "professional",
    ndc: str | None = None,
) -> dict[str, Any]:
    """One expected claim line."""
    entry: dict[str, Any] = {
        "code": code,
        "system": CPT if code[:1].isdigit() else HCPCS,
        "units": units,
        "modifiers": list(modifiers),
        "claim": claim,
    }
    if ndc:
        entry["ndc"] = ndc
    return entry


def inj(
    units: int = 1, modifiers: tuple[str, ...] = (), claim: str = "professional"
) -> dict[str, Any]:
    return line("96372", units, modifiers, claim)


# --- the drugs the cases use ----------------------------------------------------------------
def ceftriaxone() -> dict[str, Any]:
    return medication("ceftriaxone 1 g single-dose vial", "0409-7332-01")


def ketorolac_15() -> dict[str, Any]:
    return medication("ketorolac tromethamine 15 mg/mL single-dose vial", "0409-3793-01")


def ketorolac_30() -> dict[str, Any]:
    return medication("ketorolac tromethamine 30 mg/mL single-dose vial", "0409-3795-01")


def epogen(ndc: str, label: str) -> dict[str, Any]:
    return medication(f"Epogen (epoetin alfa) {label}", ndc)


def aranesp(ndc: str, label: str, hcpcs: str | None = None) -> dict[str, Any]:
    return medication(f"Aranesp (darbepoetin alfa) {label}", ndc, hcpcs)


CEF = "00409733201"
KET15 = "00409379301"
KET30 = "00409379501"

Case = tuple[str, str, dict[str, Any], list[dict[str, Any]], str, dict[str, Any] | None]


def cases() -> list[Case]:
    """(family, name, request, expected lines, source, settings)."""
    out: list[Case] = []

    def add(
        family: str,
        name: str,
        req: dict[str, Any],
        lines: list[dict[str, Any]],
        source: str,
        settings: dict[str, Any] | None = None,
    ) -> None:
        out.append((family, name, req, lines, source, settings))

    # --- JW/JZ ---------------------------------------------------------------------------------
    add(
        "jwjz",
        "medicare_ceftriaxone_whole_vial_jz",
        request([administration("ma-1", ceftriaxone(), 1, "g")]),
        [inj(), line("J0696", 4, ("JZ",), ndc=CEF)],
        f"{S_JWJZ}: 1 g from a 1 g single-dose vial, nothing discarded: JZ; {S_UNITS}",
    )
    add(
        "jwjz",
        "medicare_ceftriaxone_half_vial_waste_extension",
        request([administration("ma-1", ceftriaxone(), 500, "mg", extension=discarded(500, "mg"))]),
        [inj(), line("J0696", 2, ndc=CEF), line("J0696", 2, ("JW",), ndc=CEF)],
        f"{S_JWJZ}: 500 mg given (2 units), 500 mg discarded on a JW line (2 units)",
    )
    add(
        "jwjz",
        "medicare_ceftriaxone_waste_as_separate_administration",
        request(
            [
                administration("ma-1", ceftriaxone(), 500, "mg"),
                administration(
                    "ma-1w",
                    ceftriaxone(),
                    500,
                    "mg",
                    category="Waste",
                    method="Wasted",
                    part_of="ma-1",
                ),
            ]
        ),
        [inj(), line("J0696", 2, ndc=CEF), line("J0696", 2, ("JW",), ndc=CEF)],
        f"{S_JWJZ}: the EHR charts the wasted 500 mg as its own MedicationAdministration",
    )
    add(
        "jwjz",
        "medicare_ketorolac_waste_inside_rounded_unit",
        request([administration("ma-1", ketorolac_15(), 10, "mg", extension=discarded(5, "mg"))]),
        [inj(), line("J1885", 1, ("JZ",), ndc=KET15)],
        f"{S_NORIDIAN}: 10 mg given from a 15 mg vial bills 1 unit of J1885 (15 mg); the 5 mg "
        "discarded is inside that unit",
    )
    add(
        "jwjz",
        "medicare_ketorolac_whole_vial_note_waste_zero",
        request([administration("ma-1", ketorolac_30(), 30, "mg", extension=discarded(0, "mg"))]),
        [inj(), line("J1885", 2, ("JZ",), ndc=KET30)],
        f"{S_JWJZ}: 30 mg from a 30 mg single-dose vial, discarded amount charted as 0: JZ",
    )
    add(
        "jwjz",
        "medicare_dexamethasone_multi_dose_vial",
        request(
            [
                administration(
                    "ma-1",
                    medication(
                        "dexamethasone sodium phosphate 4 mg/mL 5 mL multiple-dose vial",
                        "63323-0165-05",
                    ),
                    8,
                    "mg",
                )
            ]
        ),
        [inj(), line("J1100", 8, ndc="63323016505")],
        f"{S_JWJZ}: multi-dose containers take neither JW nor JZ; J1100 per 1 mg",
    )
    add(
        "jwjz",
        "medicare_b12_single_dose_vial_jz",
        request(
            [
                administration(
                    "ma-1",
                    medication("cyanocobalamin 1000 mcg/mL 1 mL vial", "0517-0031-25"),
                    1000,
                    "ug",
                )
            ],
            diagnoses=("D51.0",),
        ),
        [inj(), line("J3420", 1, ("JZ",), ndc="00517003125")],
        f"{S_JWJZ}: whole 1 mL single-dose vial; J3420 up to 1,000 mcg",
    )
    add(
        "jwjz",
        "medicare_b12_multi_dose_vial",
        request(
            [
                administration(
                    "ma-1",
                    medication("cyanocobalamin 1000 mcg/mL 30 mL vial", "0517-0130-01"),
                    1000,
                    "ug",
                )
            ],
            diagnoses=("D51.0",),
        ),
        [inj(), line("J3420", 1, ndc="00517013001")],
        f"{S_JWJZ}: a 30 mL multiple-dose vial takes no JW/JZ",
    )
    add(
        "jwjz",
        "medicare_depo_medrol_single_dose_jz",
        request(
            [
                administration(
                    "ma-1",
                    medication("Depo-Medrol 40 mg/mL 1 mL single-dose vial", "0009-3073-01"),
                    40,
                    "mg",
                )
            ],
            diagnoses=("M25.561",),
        ),
        [inj(), line("J1010", 40, ("JZ",), ndc="00009307301")],
        f"{S_JWJZ}; J1010 per 1 mg (J1020-J1040 deleted 2024-04-01)",
    )
    add(
        "jwjz",
        "medicare_depo_medrol_multi_dose_no_modifier",
        request(
            [
                administration(
                    "ma-1",
                    medication("Depo-Medrol 40 mg/mL 5 mL multi-dose vial", "0009-0280-02"),
                    80,
                    "mg",
                )
            ],
            diagnoses=("M25.561",),
        ),
        [inj(), line("J1010", 80, ndc="00009028002")],
        f"{S_JWJZ}: multi-dose vial, no JW/JZ",
    )
    add(
        "jwjz",
        "medicare_partial_vial_waste_not_charted",
        request([administration("ma-1", ceftriaxone(), 500, "mg")]),
        [inj(), line("J0696", 2, ndc=CEF)],
        f"{S_JWJZ}: half a single-dose vial given and no waste charted: neither JW nor JZ can be "
        "chosen until the discarded amount is documented (DOC018)",
    )
    add(
        "jwjz",
        "commercial_ceftriaxone_waste_no_profile",
        request(
            [administration("ma-1", ceftriaxone(), 500, "mg", extension=discarded(500, "mg"))],
            payer="commercial",
        ),
        [inj(), line("J0696", 2, ndc=CEF)],
        "JW/JZ are a Medicare Part B requirement (Pub 100-04 ch.17 §40); a commercial payer "
        "without the profile setting gets the administered units only",
    )
    add(
        "jwjz",
        "commercial_ceftriaxone_waste_profile_wants_jw",
        request(
            [administration("ma-1", ceftriaxone(), 500, "mg", extension=discarded(500, "mg"))],
            payer="commercial",
        ),
        [inj(), line("J0696", 2, ndc=CEF), line("J0696", 2, ("JW",), ndc=CEF)],
        "payer profile discarded_drug_modifiers = true (e.g. Priority Health adopts the CMS "
        f"JW/JZ guidelines); {S_JWJZ}",
        {"billing": {"profiles": {"commercial": {"discarded_drug_modifiers": True}}}},
    )

    # --- self-administered drugs ---------------------------------------------------------------
    humira = medication("Humira (adalimumab) 40 mg/0.4 mL pen", None)
    add(
        "sad",
        "medicare_adalimumab_on_sad_list",
        request([administration("ma-1", humira, 40, "mg", SC)], diagnoses=("M05.79",)),
        [],
        f"{S_SAD}; CGS SAD list: adalimumab J0135",
    )
    add(
        "sad",
        "commercial_adalimumab_billed",
        request(
            [administration("ma-1", humira, 40, "mg", SC)],
            payer="commercial",
            diagnoses=("M05.79",),
        ),
        [inj(), line("J0135", 2)],
        "the SAD exclusion is Medicare's (Pub 100-02 ch.15 §50.2); J0135 per 20 mg: 40 mg = 2",
    )
    add(
        "sad",
        "medicare_semaglutide_on_sad_list",
        request(
            [administration("ma-1", medication("Ozempic (semaglutide) 0.5 mg pen"), 0.5, "mg", SC)],
            diagnoses=("E11.9",),
        ),
        [],
        f"{S_SAD}; GLP-1 agonists are usually self-administered",
    )
    add(
        "sad",
        "medicare_insulin_on_sad_list",
        request(
            [administration("ma-1", medication("insulin glargine 100 units/mL"), 10, "[iU]", SC)],
            diagnoses=("E11.9",),
        ),
        [],
        f"{S_SAD}; MAC SAD lists: all insulin products",
    )
    add(
        "sad",
        "commercial_insulin_billed",
        request(
            [
                administration(
                    "ma-1", medication("insulin regular human 100 units/mL"), 10, "[iU]", SC
                )
            ],
            payer="commercial",
            diagnoses=("E11.9",),
        ),
        [inj(), line("J1815", 2)],
        "the SAD list applies to Medicare only unless the profile says so; J1815 per 5 units",
    )
    add(
        "sad",
        "medicare_sumatriptan_on_loaded_mac_list",
        request(
            [
                administration(
                    "ma-1", medication("sumatriptan 6 mg/0.5 mL autoinjector"), 6, "mg", SC
                )
            ],
            diagnoses=("G43.909",),
        ),
        [],
        f"{S_SAD}: the MAC's own list, loaded with billing.sad_list, lists sumatriptan (J3030)",
        {"billing": {"sad_list": "fixtures/coder/sad/mac-sad-list.csv"}},
    )
    add(
        "sad",
        "commercial_profile_applies_sad_list",
        request(
            [administration("ma-1", humira, 40, "mg", SC)],
            payer="commercial",
            diagnoses=("M05.79",),
        ),
        [],
        "payer profile sad_list = true: this payer follows the MAC's SAD list",
        {"billing": {"profiles": {"commercial": {"sad_list": True}}}},
    )

    # --- patient-supplied ----------------------------------------------------------------------
    add(
        "patient_supplied",
        "testosterone_brought_by_patient_extension",
        request(
            [
                administration(
                    "ma-1",
                    medication("testosterone cypionate 200 mg/mL", None),
                    200,
                    "mg",
                    extension=[{"url": SUPPLIED, "valueBoolean": True}],
                )
            ],
            payer="commercial",
            diagnoses=("E29.1",),
        ),
        [inj()],
        S_SUPPLIED + ": 96372 only, no J1071 line",
    )
    add(
        "patient_supplied",
        "b12_patient_supplied_note",
        request(
            [
                administration(
                    "ma-1",
                    medication("cyanocobalamin 1000 mcg/mL", None),
                    1000,
                    "ug",
                    note="Patient supplied vial, brought from home pharmacy",
                )
            ],
            diagnoses=("D51.0",),
        ),
        [inj()],
        S_SUPPLIED + ": administration billed, drug not",
    )
    add(
        "patient_supplied",
        "medicare_patient_brought_insulin_sad",
        request(
            [
                administration(
                    "ma-1",
                    medication("insulin glargine 100 units/mL"),
                    10,
                    "[iU]",
                    SC,
                    extension=[{"url": SUPPLIED, "valueBoolean": True}],
                )
            ],
            diagnoses=("E11.9",),
        ),
        [],
        f"{S_SAD}: a SAD-listed drug excludes its administration too, whoever supplied it",
    )
    add(
        "patient_supplied",
        "supplied_flag_on_medication",
        request(
            [
                administration(
                    "ma-1",
                    medication(
                        "medroxyprogesterone acetate 150 mg/mL",
                        None,
                        extension=[{"url": SUPPLIED, "valueBoolean": True}],
                    ),
                    150,
                    "mg",
                )
            ],
            payer="commercial",
            diagnoses=("Z30.42",),
        ),
        [inj()],
        S_SUPPLIED + ": the flag on the Medication counts as well",
    )

    # --- places of service ---------------------------------------------------------------------
    def pos_location(code: str, name: str) -> dict[str, Any]:
        return {"name": name, "type": [{"coding": [{"system": POS, "code": code}]}]}

    add(
        "setting",
        "office_pos_11",
        request(
            [administration("ma-1", ceftriaxone(), 1, "g")],
            payer="commercial",
            location=pos_location("11", "Family practice office"),
        ),
        [inj(), line("J0696", 4, ndc=CEF)],
        "POS 11 office: the physician's professional claim bills 96372 and the drug",
    )
    add(
        "setting",
        "provider_based_clinic_pos_19",
        request(
            [administration("ma-1", ceftriaxone(), 1, "g")],
            payer="commercial",
            location=pos_location("19", "Hospital outpatient clinic, off campus"),
        ),
        [inj(claim="institutional"), line("J0696", 4, claim="institutional", ndc=CEF)],
        f"{S_OPPS}: provider-based clinic, the hospital's claim",
    )
    add(
        "setting",
        "provider_based_clinic_with_visit_g0463",
        request(
            [administration("ma-1", ceftriaxone(), 1, "g")],
            payer="commercial",
            location=pos_location("22", "Hospital outpatient clinic, on campus"),
            em_code="99213",
        ),
        [
            inj(claim="institutional"),
            line("J0696", 4, claim="institutional", ndc=CEF),
            line("G0463", 1, claim="institutional"),
        ],
        f"{S_OPPS}: the clinic visit is G0463 on the hospital claim",
    )
    add(
        "setting",
        "emergency_department",
        request(
            [administration("ma-1", ketorolac_30(), 30, "mg")],
            payer="commercial",
            encounter_class="EMER",
            period=(f"{DAY}T08:00:00-05:00", f"{DAY}T13:00:00-05:00"),
        ),
        [inj(claim="institutional"), line("J1885", 2, claim="institutional", ndc=KET30)],
        f"{S_OPPS}: emergency department, the hospital's claim; J1885 per 15 mg",
    )
    add(
        "setting",
        "emergency_room_location_role",
        request(
            [administration("ma-1", ketorolac_30(), 30, "mg")],
            payer="commercial",
            location={"name": "ED", "type": [{"coding": [{"system": ROLE, "code": "ER"}]}]},
        ),
        [inj(claim="institutional"), line("J1885", 2, claim="institutional", ndc=KET30)],
        f"{S_OPPS}: Location.type v3 RoleCode ER is the emergency department (POS 23)",
    )
    add(
        "setting",
        "observation_stay",
        request(
            [administration("ma-1", ceftriaxone(), 1, "g")],
            payer="commercial",
            encounter_class="OBSENC",
            period=(f"{DAY}T08:00:00-05:00", "2026-11-25T09:00:00-05:00"),
        ),
        [inj(claim="institutional"), line("J0696", 4, claim="institutional", ndc=CEF)],
        f"{S_OPPS}: observation is hospital outpatient",
    )
    add(
        "setting",
        "medicare_clinic_paid_drug_takes_jz",
        request(
            [administration("ma-1", ketorolac_30(), 30, "mg")],
            location=pos_location("22", "Hospital outpatient clinic, on campus"),
        ),
        [inj(claim="institutional"), line("J1885", 2, ("JZ",), claim="institutional", ndc=KET30)],
        f"{S_OPPS}; J1885 is separately paid (Addendum B SI K1) from a single-dose vial: JZ "
        f"({S_JWJZ})",
    )
    add(
        "setting",
        "medicare_clinic_packaged_drug_no_jz",
        request(
            [administration("ma-1", ceftriaxone(), 1, "g")],
            location=pos_location("22", "Hospital outpatient clinic, on campus"),
        ),
        [inj(claim="institutional"), line("J0696", 4, claim="institutional", ndc=CEF)],
        f"{S_OPPS}; J0696 is packaged (SI N): JW/JZ do not apply to packaged OPPS drugs "
        "(CMS JW/JZ FAQs)",
    )
    add(
        "setting",
        "inpatient_stay",
        request(
            [administration("ma-1", ceftriaxone(), 1, "g")],
            encounter_class="IMP",
            period=("2026-11-22T08:00:00-05:00", None),
        ),
        [],
        S_INPATIENT,
    )
    add(
        "setting",
        "multi_day_ambulatory_is_ambiguous",
        request(
            [administration("ma-1", ceftriaxone(), 1, "g")],
            payer="commercial",
            period=("2026-11-21T08:00:00-05:00", "2026-11-24T17:00:00-05:00"),
        ),
        [],
        f"{S_TWO_MIDNIGHT}: no office lines until the place of service is charted",
    )

    # --- critical stops ------------------------------------------------------------------------
    add(
        "stops",
        "expired_product_blocks_its_lines",
        request(
            [
                administration(
                    "ma-1",
                    medication("ceftriaxone 1 g vial", "0409-7332-01", expires="2026-10-31"),
                    1,
                    "g",
                )
            ],
            payer="commercial",
        ),
        [],
        S_STOP,
    )
    add(
        "stops",
        "expired_one_of_two_injections",
        request(
            [
                administration(
                    "ma-1",
                    medication("ceftriaxone 1 g vial", "0409-7332-01", expires="2026-10"),
                    1,
                    "g",
                ),
                administration("ma-2", ketorolac_30(), 30, "mg", site=1, time="10:20"),
            ],
            payer="commercial",
        ),
        [inj(), line("J1885", 2, ndc=KET30)],
        f"{S_STOP}; the other injection bills as usual",
    )
    add(
        "stops",
        "unidentified_drug_blocks_its_lines",
        request(
            [
                administration("ma-1", None, 1, "mL", reference="Medication/not-sent"),
                administration("ma-2", ketorolac_30(), 30, "mg", site=1, time="10:20"),
            ],
            payer="commercial",
        ),
        [inj(), line("J1885", 2, ndc=KET30)],
        f"{S_STOP}: a drug nobody can name has no code",
    )

    # --- ESAs ----------------------------------------------------------------------------------
    add(
        "esa",
        "medicare_epoetin_ckd_not_on_dialysis",
        request(
            [
                administration(
                    "ma-1",
                    epogen("55513-0144-10", "10,000 Units/mL single-dose vial"),
                    10000,
                    "[iU]",
                    SC,
                )
            ],
            diagnoses=("N18.4", "D63.1"),
        ),
        [inj(), line("J0885", 10, ("EC", "JZ"), ndc="55513014410")],
        f"{S_ESA}: CKD not on dialysis, EC; whole single-dose vial, JZ",
    )
    add(
        "esa",
        "medicare_epoetin_partial_vial_with_waste",
        request(
            [
                administration(
                    "ma-1",
                    epogen("55513-0144-10", "10,000 Units/mL single-dose vial"),
                    8000,
                    "[iU]",
                    SC,
                    extension=discarded(2000, "[iU]"),
                )
            ],
            diagnoses=("N18.4", "D63.1"),
        ),
        [
            inj(),
            line("J0885", 8, ("EC",), ndc="55513014410"),
            line("J0885", 2, ("EC", "JW"), ndc="55513014410"),
        ],
        f"{S_ESA}; {S_JWJZ}",
    )
    add(
        "esa",
        "epoetin_chemotherapy_anemia_ea",
        request(
            [
                administration(
                    "ma-1",
                    epogen("55513-0148-10", "4,000 Units/mL single-dose vial"),
                    4000,
                    "[iU]",
                    SC,
                )
            ],
            payer="commercial",
            diagnoses=("D64.81", "C50.911"),
        ),
        [inj(), line("J0885", 4, ("EA",), ndc="55513014810")],
        f"{S_ESA}: anaemia from chemotherapy, EA",
    )
    add(
        "esa",
        "epoetin_radiotherapy_anemia_eb",
        request(
            [
                administration(
                    "ma-1",
                    epogen("55513-0148-10", "4,000 Units/mL single-dose vial"),
                    4000,
                    "[iU]",
                    SC,
                )
            ],
            payer="commercial",
            diagnoses=("D64.89", "Y84.2", "C61"),
        ),
        [inj(), line("J0885", 4, ("EB",), ndc="55513014810")],
        f"{S_ESA}: anaemia from radiotherapy, EB",
    )
    add(
        "esa",
        "epoetin_dialysis_patient_esrd_code",
        request(
            [
                administration(
                    "ma-1",
                    epogen("55513-0148-10", "4,000 Units/mL single-dose vial"),
                    4000,
                    "[iU]",
                    SC,
                )
            ],
            payer="commercial",
            diagnoses=("N18.6", "Z99.2", "D63.1"),
        ),
        [inj(), line("Q4081", 40, ndc="55513014810")],
        f"{S_ESA}: on dialysis, the ESRD code Q4081 per 100 units, no EA/EB/EC",
    )
    add(
        "esa",
        "darbepoetin_esrd_code_charted_not_on_dialysis",
        request(
            [
                administration(
                    "ma-1",
                    aranesp("55513-0023-04", "60 mcg/0.3 mL prefilled syringe", "J0882"),
                    60,
                    "ug",
                    SC,
                )
            ],
            payer="commercial",
            diagnoses=("N18.4", "D63.1"),
        ),
        [inj(), line("J0881", 60, ("EC",), ndc="55513002304")],
        f"{S_ESA}: J0882 is for ESRD on dialysis only; not on dialysis, J0881-EC",
    )
    add(
        "esa",
        "darbepoetin_dialysis_patient",
        request(
            [
                administration(
                    "ma-1",
                    aranesp("55513-0021-04", "40 mcg/0.4 mL prefilled syringe"),
                    40,
                    "ug",
                    SC,
                )
            ],
            payer="commercial",
            diagnoses=("N18.6", "Z99.2"),
        ),
        [inj(), line("J0882", 40, ndc="55513002104")],
        f"{S_ESA}: on dialysis, J0882",
    )
    out.extend(weekly_cases())
    return out


CVX = "http://hl7.org/fhir/sid/cvx"
S_DELETED = "CMS HCPCS update April 2024: J1020/J1030/J1040 deleted, J1010 per 1 mg (SOURCES §3.4)"
S_LABEL = "the charted label names the container (FDA NDC package file words; SOURCES.md §10)"


def vaccine(name: str, cvx: str, cpt: str) -> dict[str, Any]:
    """A contained vaccine Medication coded in CVX and its CPT product code, no NDC."""
    med = medication(name)
    med["code"]["coding"] = [{"system": CVX, "code": cvx}, {"system": CPT, "code": cpt}]
    return med


INTRADERMAL = {"coding": [{"system": SNOMED, "code": "372464004", "display": "Intradermal"}]}
FORMULARY = "http://mimic.mit.edu/fhir/mimic/CodeSystem/mimic-medication-formulary-drug-cd"


def linked_to_another_drugs_order() -> dict[str, Any]:
    """A Bactrim DS tablet charted with no route, its request naming a flu vaccine IM order.

    MIMIC-IV's demo export links administrations to orders of other drugs this way; the
    order's Medication carries its formulary code as an identifier.
    """
    tablet = administration("ma-1", None, 1, "TAB")
    del tablet["dosage"]["route"], tablet["dosage"]["site"]
    tablet["dosage"]["dose"] = {"value": 1, "unit": "TAB", "code": "TAB"}
    tablet["medicationCodeableConcept"] = {"coding": [{"system": FORMULARY, "code": "BACTDS"}]}
    req = request([tablet], payer="commercial", diagnoses=("N39.0",))
    vaccine_order = {
        "resourceType": "MedicationRequest",
        "id": "ord-ma-1",
        "status": "completed",
        "intent": "order",
        "subject": {"reference": "Patient/pat-1001"},
        "contained": [
            {
                "resourceType": "Medication",
                "id": "flu",
                "identifier": [{"system": FORMULARY, "value": "INFL0.5LF"}],
                "code": {"coding": [{"system": NDC, "code": "33332-0011-01"}]},
            }
        ],
        "medicationReference": {"reference": "#flu"},
        "dosageInstruction": [
            {
                "route": {"coding": [{"system": SNOMED, "code": "78421000"}]},
                "doseAndRate": [{"doseQuantity": quantity(0.5, "mL")}],
            }
        ],
    }
    req["prefetch"]["conditions"]["entry"].append({"resource": vaccine_order})
    return req


def weekly_cases() -> list[Case]:
    """What a coder meets every week: one chart per everyday injection, coded by hand."""
    one = administration
    return [
        (
            "codes",
            "commercial_depo_medrol_80_charted_as_deleted_j1040",
            request(
                [
                    one(
                        "ma-1",
                        medication("Depo-Medrol 80 mg/mL", "0009-3475-01", "J1040"),
                        80,
                        "mg",
                    )
                ],
                payer="commercial",
                diagnoses=("M25.561",),
            ),
            [inj(), line("J1010", 80, ndc="00009347501")],
            f"{S_DELETED}: 80 mg = 80 units of J1010",
            None,
        ),
        (
            "codes",
            "commercial_methylprednisolone_40_charted_as_deleted_j1030_no_ndc",
            request(
                [
                    one(
                        "ma-1",
                        medication("methylprednisolone acetate 40 mg/mL", None, "J1030"),
                        40,
                        "mg",
                    )
                ],
                payer="commercial",
                diagnoses=("M25.561",),
            ),
            [inj(), line("J1010", 40)],
            f"{S_DELETED}: 40 mg = 40 units of J1010",
            None,
        ),
        (
            "jwjz",
            "medicare_prolia_prefilled_syringe_jz",
            request(
                [
                    one(
                        "ma-1",
                        medication(
                            "Prolia (denosumab) 60 mg/mL prefilled syringe", "55513-0710-01"
                        ),
                        60,
                        "mg",
                        SC,
                    )
                ],
                diagnoses=("M81.0",),
            ),
            [inj(), line("J0897", 60, ("JZ",), ndc="55513071001")],
            f"{S_JWJZ}; {S_LABEL}: a whole single-dose prefilled syringe, JZ; J0897 per 1 mg",
            None,
        ),
        (
            "jwjz",
            "medicare_ketorolac_30_of_60_single_dose_label_waste_charted",
            request(
                [
                    one(
                        "ma-1",
                        medication(
                            "ketorolac tromethamine 60 mg/2 mL single-dose vial", "0409-3796-01"
                        ),
                        30,
                        "mg",
                        extension=discarded(30, "mg"),
                    )
                ],
                diagnoses=("M54.50",),
            ),
            [
                inj(),
                line("J1885", 2, ndc="00409379601"),
                line("J1885", 2, ("JW",), ndc="00409379601"),
            ],
            f"{S_JWJZ}; {S_LABEL}: 30 mg given (2 units of 15 mg), 30 mg discarded on a JW line",
            None,
        ),
        (
            "codes",
            "medicare_flu_cpt_product_no_ndc",
            request(
                [
                    one(
                        "ma-1",
                        vaccine("Fluarix 2026-2027 0.5 mL syringe", "150", "90686"),
                        0.5,
                        "mL",
                    )
                ],
                diagnoses=("Z23",),
            ),
            [line("G0008", 1), line("90686", 1)],
            "Medicare flu: G0008 + product 90686 (SOURCES-96372.md §3.1); the product code is its "
            "own, so a missing NDC is not the unclassified-drug case",
            None,
        ),
        (
            "skin_test",
            "commercial_tubersol_ppd_placed",
            request(
                [
                    one(
                        "ma-1",
                        medication("Tubersol (tuberculin PPD) 5 TU/0.1 mL", "49281-0752-21"),
                        0.1,
                        "mL",
                        INTRADERMAL,
                    )
                ],
                payer="commercial",
                diagnoses=("Z11.1",),
            ),
            [line("86580", 1)],
            "AAPC Pediatric Coding Alert 2010-09-16: 86580 includes the PPD and its placement; "
            "no 96372, no 90471, no J3490 line",
            None,
        ),
        (
            "stops",
            "tablet_linked_to_another_drugs_order",
            linked_to_another_drugs_order(),
            [],
            "a tablet is not an injection (RULES.md: billable candidates); an order for another "
            "drug (another formulary code) lends it neither its IM route nor its vaccine NDC",
            None,
        ),
    ]


RULE_FIXTURES = {
    "BIL023": (
        "medicare_ceftriaxone_half_vial_waste_extension",
        "medicare_dexamethasone_multi_dose_vial",
    ),
    "DOC018": (
        "medicare_partial_vial_waste_not_charted",
        "medicare_ceftriaxone_half_vial_waste_extension",
    ),
    "BIL024": ("testosterone_brought_by_patient_extension", "office_pos_11"),
    "BIL025": ("provider_based_clinic_pos_19", "office_pos_11"),
    "BIL026": ("multi_day_ambulatory_is_ambiguous", "office_pos_11"),
    "BIL027": ("expired_product_blocks_its_lines", "office_pos_11"),
    "BIL028": ("medicare_epoetin_ckd_not_on_dialysis", "office_pos_11"),
    "BIL029": ("commercial_tubersol_ppd_placed", "office_pos_11"),
}


def main() -> None:
    by_name: dict[str, dict[str, Any]] = {}
    for family, name, req, lines, source, settings in cases():
        folder = CODER_DIR / family
        folder.mkdir(parents=True, exist_ok=True)
        case: dict[str, Any] = {"request": req, "expected": {"lines": lines, "source": source}}
        if settings:
            case["settings"] = settings
        (folder / f"{name}.json").write_text(json.dumps(case, indent=2) + "\n", "utf-8")
        by_name[name] = req
    for rule, (fail, passing) in RULE_FIXTURES.items():
        folder = RULES_DIR / rule
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"fail_{fail}.json").write_text(
            json.dumps(by_name[fail], indent=2) + "\n", "utf-8"
        )
        (folder / f"pass_{passing}.json").write_text(
            json.dumps(by_name[passing], indent=2) + "\n", "utf-8"
        )


if __name__ == "__main__":
    main()
