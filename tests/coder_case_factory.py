"""Coder cases for JW/JZ, SAD, patient supply, places of service, critical stops and ESAs.

Each case is what a certified coder writes down: the chart (a whole CDS Hooks request, FHIR
R4) and, typed by hand below — never computed by the service — the claim lines they would
code, with the source that says so. Written to ``fixtures/coder/<family>/<name>.json``
(``{"request", "expected": {"lines", "source"}, "settings"?}``) and, for the rule fixtures
that show each new rule firing or not, to ``fixtures/rules/<RULE>/``. The code systems, the
Medication and the claim-line layout come from tests/fhir_builders.py; the charts here are
leaner than fixture_factory's (no fullUrl, no displays on the drug codes).

    .venv/bin/python tests/coder_case_factory.py
"""

from __future__ import annotations

import json
from typing import Any

import fhir_builders as fb

CODER_DIR = fb.ROOT / "fixtures" / "coder"
RULES_DIR = fb.ROOT / "fixtures" / "rules"

POS = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
ROLE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
DISCARDED = "https://injection-cds.org/fhir/StructureDefinition/discarded-amount"
SUPPLIED = [
    {
        "url": "https://injection-cds.org/fhir/StructureDefinition/patient-supplied",
        "valueBoolean": True,
    }
]
IM = fb.ROUTE_IM_SNOMED
SC = fb.ROUTE_SC_SNOMED
IV_PUSH = {"coding": [{"system": fb.V3_ROUTE, "code": "IVPUSH"}]}
IV_INFUSION = {
    "coding": [{"system": fb.SNOMED, "code": "47625008", "display": "Intravenous route"}]
}
INTRA_ARTICULAR = {
    "coding": [{"system": fb.SNOMED, "code": "12130007", "display": "Intra-articular route"}]
}
V2_SITE = "http://terminology.hl7.org/CodeSystem/v2-0163"
SITES = ["LD", "RD", "LG", "RG"]
INSTITUTIONAL = "institutional"

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
    extension: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A contained Medication (med1) with a lot and expiry, coded by NDC and/or HCPCS."""
    coding = [
        {"system": system, "code": code}
        for system, code in ((fb.NDC, ndc), (fb.HCPCS, hcpcs))
        if code
    ]
    concept = {"text": name, "coding": coding} if coding else {"text": name}
    med = fb.medication(concept, mid="med1", form=None, lot="LOT42", expiration=expires)
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
        "effectiveDateTime": fb.at(time),
        "performer": [{"actor": {"reference": "Practitioner/rn-204"}}],
        "request": {"reference": f"MedicationRequest/ord-{part_of or ident}"},
        "reasonReference": [{"reference": "Condition/cond-1"}],
        "dosage": {
            "dose": fb.dose(dose, unit),
            "route": route,
            "site": {"coding": [{"system": fb.V2_SITE, "code": SITES[site]}]},
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


def discarded(value: float, unit: str) -> list[dict[str, Any]]:
    return [{"url": DISCARDED, "valueQuantity": fb.dose(value, unit)}]


def request(
    administrations: list[dict[str, Any]],
    *,
    payer: str = "medicare",
    diagnoses: tuple[str, ...] = ("N39.0",),
    encounter_class: str = "AMB",
    period: tuple[str, str | None] = (fb.at("09:50"), None),
    location: dict[str, Any] | None = None,
    em_code: str | None = None,
) -> dict[str, Any]:
    """The whole hook request: context administrations, prefetched encounter and the rest."""
    encounter: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": "enc-5001",
        "status": "in-progress",
        "class": {"system": fb.V3_ACT, "code": encounter_class},
        "subject": {"reference": "Patient/pat-1001"},
        "period": {"start": period[0], **({"end": period[1]} if period[1] else {})},
    }
    if em_code:
        encounter["type"] = [{"coding": [{"system": fb.CPT, "code": em_code}]}]
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
            "code": {"coding": [{"system": fb.ICD10CM, "code": code}]},
        }
        for n, code in enumerate(diagnoses)
    ]
    coverage = {
        "resourceType": "Coverage",
        "id": "cov-1",
        "status": "active",
        "type": {"coding": [{"system": fb.TYPOLOGY, "code": fb.PAYER_TYPOLOGY[payer][0]}]},
        "beneficiary": {"reference": "Patient/pat-1001"},
        "payor": [{"reference": f"Organization/payer-{payer}"}],
    }
    return {
        "hook": fb.CHARTING,
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


def one(
    med: dict[str, Any],
    dose: float,
    unit: str,
    route: dict[str, Any] = IM,
    *,
    extension: list[dict[str, Any]] | None = None,
    note: str | None = None,
    **visit: Any,
) -> dict[str, Any]:
    """A request with one administration (ma-1); ``visit`` as ``request`` takes it."""
    given = administration("ma-1", med, dose, unit, route, extension=extension, note=note)
    return request([given], **visit)


line = fb.claim_line


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

    def family(name: str) -> Any:
        def add(
            case: str,
            req: dict[str, Any],
            lines: list[dict[str, Any]],
            source: str,
            settings: dict[str, Any] | None = None,
        ) -> None:
            out.append((name, case, req, lines, source, settings))

        return add

    # --- JW/JZ ---------------------------------------------------------------------------------
    jwjz = family("jwjz")
    jwjz(
        "medicare_ceftriaxone_whole_vial_jz",
        one(ceftriaxone(), 1, "g"),
        [inj(), line("J0696", 4, ("JZ",), ndc=CEF)],
        f"{S_JWJZ}: 1 g from a 1 g single-dose vial, nothing discarded: JZ; {S_UNITS}",
    )
    jwjz(
        "medicare_ceftriaxone_half_vial_waste_extension",
        one(ceftriaxone(), 500, "mg", extension=discarded(500, "mg")),
        [inj(), line("J0696", 2, ndc=CEF), line("J0696", 2, ("JW",), ndc=CEF)],
        f"{S_JWJZ}: 500 mg given (2 units), 500 mg discarded on a JW line (2 units)",
    )
    jwjz(
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
    jwjz(
        "medicare_ketorolac_waste_inside_rounded_unit",
        one(ketorolac_15(), 10, "mg", extension=discarded(5, "mg")),
        [inj(), line("J1885", 1, ("JZ",), ndc=KET15)],
        f"{S_NORIDIAN}: 10 mg given from a 15 mg vial bills 1 unit of J1885 (15 mg); the 5 mg "
        "discarded is inside that unit",
    )
    jwjz(
        "medicare_ketorolac_whole_vial_note_waste_zero",
        one(ketorolac_30(), 30, "mg", extension=discarded(0, "mg")),
        [inj(), line("J1885", 2, ("JZ",), ndc=KET30)],
        f"{S_JWJZ}: 30 mg from a 30 mg single-dose vial, discarded amount charted as 0: JZ",
    )
    jwjz(
        "medicare_dexamethasone_multi_dose_vial",
        one(
            medication(
                "dexamethasone sodium phosphate 4 mg/mL 5 mL multiple-dose vial", "63323-0165-05"
            ),
            8,
            "mg",
        ),
        [inj(), line("J1100", 8, ndc="63323016505")],
        f"{S_JWJZ}: multi-dose containers take neither JW nor JZ; J1100 per 1 mg",
    )
    b12 = ("D51.0",)
    jwjz(
        "medicare_b12_single_dose_vial_jz",
        one(
            medication("cyanocobalamin 1000 mcg/mL 1 mL vial", "0517-0031-25"),
            1000,
            "ug",
            diagnoses=b12,
        ),
        [inj(), line("J3420", 1, ("JZ",), ndc="00517003125")],
        f"{S_JWJZ}: whole 1 mL single-dose vial; J3420 up to 1,000 mcg",
    )
    jwjz(
        "medicare_b12_multi_dose_vial",
        one(
            medication("cyanocobalamin 1000 mcg/mL 30 mL vial", "0517-0130-01"),
            1000,
            "ug",
            diagnoses=b12,
        ),
        [inj(), line("J3420", 1, ndc="00517013001")],
        f"{S_JWJZ}: a 30 mL multiple-dose vial takes no JW/JZ",
    )
    knee = ("M25.561",)
    jwjz(
        "medicare_depo_medrol_single_dose_jz",
        one(
            medication("Depo-Medrol 40 mg/mL 1 mL single-dose vial", "0009-3073-01"),
            40,
            "mg",
            diagnoses=knee,
        ),
        [inj(), line("J1010", 40, ("JZ",), ndc="00009307301")],
        f"{S_JWJZ}; J1010 per 1 mg (J1020-J1040 deleted 2024-04-01)",
    )
    jwjz(
        "medicare_depo_medrol_multi_dose_no_modifier",
        one(
            medication("Depo-Medrol 40 mg/mL 5 mL multi-dose vial", "0009-0280-02"),
            80,
            "mg",
            diagnoses=knee,
        ),
        [inj(), line("J1010", 80, ndc="00009028002")],
        f"{S_JWJZ}: multi-dose vial, no JW/JZ",
    )
    jwjz(
        "medicare_partial_vial_waste_not_charted",
        one(ceftriaxone(), 500, "mg"),
        [inj(), line("J0696", 2, ndc=CEF)],
        f"{S_JWJZ}: half a single-dose vial given and no waste charted: neither JW nor JZ can be "
        "chosen until the discarded amount is documented (DOC018)",
    )
    jwjz(
        "commercial_ceftriaxone_waste_no_profile",
        one(ceftriaxone(), 500, "mg", extension=discarded(500, "mg"), payer="commercial"),
        [inj(), line("J0696", 2, ndc=CEF)],
        "JW/JZ are a Medicare Part B requirement (Pub 100-04 ch.17 §40); a commercial payer "
        "without the profile setting gets the administered units only",
    )
    jwjz(
        "commercial_ceftriaxone_waste_profile_wants_jw",
        one(ceftriaxone(), 500, "mg", extension=discarded(500, "mg"), payer="commercial"),
        [inj(), line("J0696", 2, ndc=CEF), line("J0696", 2, ("JW",), ndc=CEF)],
        "payer profile discarded_drug_modifiers = true (e.g. Priority Health adopts the CMS "
        f"JW/JZ guidelines); {S_JWJZ}",
        {"billing": {"profiles": {"commercial": {"discarded_drug_modifiers": True}}}},
    )

    # --- self-administered drugs ---------------------------------------------------------------
    sad = family("sad")
    humira = medication("Humira (adalimumab) 40 mg/0.4 mL pen", None)
    ra, diabetes = ("M05.79",), ("E11.9",)
    sad(
        "medicare_adalimumab_on_sad_list",
        one(humira, 40, "mg", SC, diagnoses=ra),
        [],
        f"{S_SAD}; CGS SAD list: adalimumab J0135",
    )
    sad(
        "commercial_adalimumab_billed",
        one(humira, 40, "mg", SC, payer="commercial", diagnoses=ra),
        [inj(), line("J0135", 2)],
        "the SAD exclusion is Medicare's (Pub 100-02 ch.15 §50.2); J0135 per 20 mg: 40 mg = 2",
    )
    sad(
        "medicare_semaglutide_on_sad_list",
        one(medication("Ozempic (semaglutide) 0.5 mg pen"), 0.5, "mg", SC, diagnoses=diabetes),
        [],
        f"{S_SAD}; GLP-1 agonists are usually self-administered",
    )
    sad(
        "medicare_insulin_on_sad_list",
        one(medication("insulin glargine 100 units/mL"), 10, "[iU]", SC, diagnoses=diabetes),
        [],
        f"{S_SAD}; MAC SAD lists: all insulin products",
    )
    sad(
        "commercial_insulin_billed",
        one(
            medication("insulin regular human 100 units/mL"),
            10,
            "[iU]",
            SC,
            payer="commercial",
            diagnoses=diabetes,
        ),
        [inj(), line("J1815", 2)],
        "the SAD list applies to Medicare only unless the profile says so; J1815 per 5 units",
    )
    sad(
        "medicare_sumatriptan_on_loaded_mac_list",
        one(
            medication("sumatriptan 6 mg/0.5 mL autoinjector"), 6, "mg", SC, diagnoses=("G43.909",)
        ),
        [],
        f"{S_SAD}: the MAC's own list, loaded with billing.sad_list, lists sumatriptan (J3030)",
        {"billing": {"sad_list": "fixtures/coder/sad/mac-sad-list.csv"}},
    )
    sad(
        "commercial_profile_applies_sad_list",
        one(humira, 40, "mg", SC, payer="commercial", diagnoses=ra),
        [],
        "payer profile sad_list = true: this payer follows the MAC's SAD list",
        {"billing": {"profiles": {"commercial": {"sad_list": True}}}},
    )

    # --- patient-supplied ----------------------------------------------------------------------
    supplied = family("patient_supplied")
    supplied(
        "testosterone_brought_by_patient_extension",
        one(
            medication("testosterone cypionate 200 mg/mL", None),
            200,
            "mg",
            extension=SUPPLIED,
            payer="commercial",
            diagnoses=("E29.1",),
        ),
        [inj()],
        S_SUPPLIED + ": 96372 only, no J1071 line",
    )
    supplied(
        "b12_patient_supplied_note",
        one(
            medication("cyanocobalamin 1000 mcg/mL", None),
            1000,
            "ug",
            note="Patient supplied vial, brought from home pharmacy",
            diagnoses=b12,
        ),
        [inj()],
        S_SUPPLIED + ": administration billed, drug not",
    )
    supplied(
        "medicare_patient_brought_insulin_sad",
        one(
            medication("insulin glargine 100 units/mL"),
            10,
            "[iU]",
            SC,
            extension=SUPPLIED,
            diagnoses=diabetes,
        ),
        [],
        f"{S_SAD}: a SAD-listed drug excludes its administration too, whoever supplied it",
    )
    supplied(
        "supplied_flag_on_medication",
        one(
            medication("medroxyprogesterone acetate 150 mg/mL", None, extension=SUPPLIED),
            150,
            "mg",
            payer="commercial",
            diagnoses=("Z30.42",),
        ),
        [inj()],
        S_SUPPLIED + ": the flag on the Medication counts as well",
    )

    # --- places of service ---------------------------------------------------------------------
    def pos_location(code: str, name: str) -> dict[str, Any]:
        return {"name": name, "type": [{"coding": [{"system": POS, "code": code}]}]}

    setting = family("setting")
    on_campus = pos_location("22", "Hospital outpatient clinic, on campus")
    hospital_cef = [inj(claim=INSTITUTIONAL), line("J0696", 4, claim=INSTITUTIONAL, ndc=CEF)]
    hospital_ket = [inj(claim=INSTITUTIONAL), line("J1885", 2, claim=INSTITUTIONAL, ndc=KET30)]
    setting(
        "office_pos_11",
        one(
            ceftriaxone(),
            1,
            "g",
            payer="commercial",
            location=pos_location("11", "Family practice office"),
        ),
        [inj(), line("J0696", 4, ndc=CEF)],
        "POS 11 office: the physician's professional claim bills 96372 and the drug",
    )
    setting(
        "provider_based_clinic_pos_19",
        one(
            ceftriaxone(),
            1,
            "g",
            payer="commercial",
            location=pos_location("19", "Hospital outpatient clinic, off campus"),
        ),
        hospital_cef,
        f"{S_OPPS}: provider-based clinic, the hospital's claim",
    )
    setting(
        "provider_based_clinic_with_visit_g0463",
        one(ceftriaxone(), 1, "g", payer="commercial", location=on_campus, em_code="99213"),
        [*hospital_cef, line("G0463", 1, claim=INSTITUTIONAL)],
        f"{S_OPPS}: the clinic visit is G0463 on the hospital claim",
    )
    setting(
        "emergency_department",
        one(
            ketorolac_30(),
            30,
            "mg",
            payer="commercial",
            encounter_class="EMER",
            period=(fb.at("08:00"), fb.at("13:00")),
        ),
        hospital_ket,
        f"{S_OPPS}: emergency department, the hospital's claim; J1885 per 15 mg",
    )
    setting(
        "emergency_room_location_role",
        one(
            ketorolac_30(),
            30,
            "mg",
            payer="commercial",
            location={"name": "ED", "type": [{"coding": [{"system": ROLE, "code": "ER"}]}]},
        ),
        hospital_ket,
        f"{S_OPPS}: Location.type v3 RoleCode ER is the emergency department (POS 23)",
    )
    setting(
        "observation_stay",
        one(
            ceftriaxone(),
            1,
            "g",
            payer="commercial",
            encounter_class="OBSENC",
            period=(fb.at("08:00"), "2026-11-25T09:00:00-05:00"),
        ),
        hospital_cef,
        f"{S_OPPS}: observation is hospital outpatient",
    )
    setting(
        "medicare_clinic_paid_drug_takes_jz",
        one(ketorolac_30(), 30, "mg", location=on_campus),
        [inj(claim=INSTITUTIONAL), line("J1885", 2, ("JZ",), claim=INSTITUTIONAL, ndc=KET30)],
        f"{S_OPPS}; J1885 is separately paid (Addendum B SI K1) from a single-dose vial: JZ "
        f"({S_JWJZ})",
    )
    setting(
        "medicare_clinic_packaged_drug_no_jz",
        one(ceftriaxone(), 1, "g", location=on_campus),
        hospital_cef,
        f"{S_OPPS}; J0696 is packaged (SI N): JW/JZ do not apply to packaged OPPS drugs "
        "(CMS JW/JZ FAQs)",
    )
    setting(
        "inpatient_stay",
        one(
            ceftriaxone(), 1, "g", encounter_class="IMP", period=("2026-11-22T08:00:00-05:00", None)
        ),
        [],
        S_INPATIENT,
    )
    setting(
        "multi_day_ambulatory_is_ambiguous",
        one(
            ceftriaxone(),
            1,
            "g",
            payer="commercial",
            period=("2026-11-21T08:00:00-05:00", fb.at("17:00")),
        ),
        [],
        f"{S_TWO_MIDNIGHT}: no office lines until the place of service is charted",
    )

    # --- critical stops ------------------------------------------------------------------------
    stops = family("stops")
    ketorolac_later = administration("ma-2", ketorolac_30(), 30, "mg", site=1, time="10:20")
    stops(
        "expired_product_blocks_its_lines",
        one(
            medication("ceftriaxone 1 g vial", "0409-7332-01", expires="2026-10-31"),
            1,
            "g",
            payer="commercial",
        ),
        [],
        S_STOP,
    )
    stops(
        "expired_one_of_two_injections",
        request(
            [
                administration(
                    "ma-1",
                    medication("ceftriaxone 1 g vial", "0409-7332-01", expires="2026-10"),
                    1,
                    "g",
                ),
                ketorolac_later,
            ],
            payer="commercial",
        ),
        [inj(), line("J1885", 2, ndc=KET30)],
        f"{S_STOP}; the other injection bills as usual",
    )
    stops(
        "unidentified_drug_blocks_its_lines",
        request(
            [
                administration("ma-1", None, 1, "mL", reference="Medication/not-sent"),
                ketorolac_later,
            ],
            payer="commercial",
        ),
        [inj(), line("J1885", 2, ndc=KET30)],
        f"{S_STOP}: a drug nobody can name has no code",
    )

    # --- ESAs ----------------------------------------------------------------------------------
    esa = family("esa")
    epo_10k = epogen("55513-0144-10", "10,000 Units/mL single-dose vial")
    epo_4k = epogen("55513-0148-10", "4,000 Units/mL single-dose vial")
    ckd = ("N18.4", "D63.1")
    esa(
        "medicare_epoetin_ckd_not_on_dialysis",
        one(epo_10k, 10000, "[iU]", SC, diagnoses=ckd),
        [inj(), line("J0885", 10, ("EC", "JZ"), ndc="55513014410")],
        f"{S_ESA}: CKD not on dialysis, EC; whole single-dose vial, JZ",
    )
    esa(
        "medicare_epoetin_partial_vial_with_waste",
        one(epo_10k, 8000, "[iU]", SC, extension=discarded(2000, "[iU]"), diagnoses=ckd),
        [
            inj(),
            line("J0885", 8, ("EC",), ndc="55513014410"),
            line("J0885", 2, ("EC", "JW"), ndc="55513014410"),
        ],
        f"{S_ESA}; {S_JWJZ}",
    )
    esa(
        "epoetin_chemotherapy_anemia_ea",
        one(epo_4k, 4000, "[iU]", SC, payer="commercial", diagnoses=("D64.81", "C50.911")),
        [inj(), line("J0885", 4, ("EA",), ndc="55513014810")],
        f"{S_ESA}: anaemia from chemotherapy, EA",
    )
    esa(
        "epoetin_radiotherapy_anemia_eb",
        one(epo_4k, 4000, "[iU]", SC, payer="commercial", diagnoses=("D64.89", "Y84.2", "C61")),
        [inj(), line("J0885", 4, ("EB",), ndc="55513014810")],
        f"{S_ESA}: anaemia from radiotherapy, EB",
    )
    esa(
        "epoetin_dialysis_patient_esrd_code",
        one(epo_4k, 4000, "[iU]", SC, payer="commercial", diagnoses=("N18.6", "Z99.2", "D63.1")),
        [inj(), line("Q4081", 40, ndc="55513014810")],
        f"{S_ESA}: on dialysis, the ESRD code Q4081 per 100 units, no EA/EB/EC",
    )
    esa(
        "darbepoetin_esrd_code_charted_not_on_dialysis",
        one(
            aranesp("55513-0023-04", "60 mcg/0.3 mL prefilled syringe", "J0882"),
            60,
            "ug",
            SC,
            payer="commercial",
            diagnoses=ckd,
        ),
        [inj(), line("J0881", 60, ("EC",), ndc="55513002304")],
        f"{S_ESA}: J0882 is for ESRD on dialysis only; not on dialysis, J0881-EC",
    )
    esa(
        "darbepoetin_dialysis_patient",
        one(
            aranesp("55513-0021-04", "40 mcg/0.4 mL prefilled syringe"),
            40,
            "ug",
            SC,
            payer="commercial",
            diagnoses=("N18.6", "Z99.2"),
        ),
        [inj(), line("J0882", 40, ndc="55513002104")],
        f"{S_ESA}: on dialysis, J0882",
    )
    out.extend(weekly_cases())
    out.extend(joint_cases())
    return out


S_DELETED = "CMS HCPCS update April 2024: J1020/J1030/J1040 deleted, J1010 per 1 mg (SOURCES §3.4)"
S_LABEL = "the charted label names the container (FDA NDC package file words; SOURCES.md §10)"


def vaccine(name: str, cvx: str, cpt: str) -> dict[str, Any]:
    """A contained vaccine Medication coded in CVX and its CPT product code, no NDC."""
    med = medication(name)
    med["code"]["coding"] = [{"system": fb.CVX, "code": cvx}, {"system": fb.CPT, "code": cpt}]
    return med


INTRADERMAL = {"coding": [{"system": fb.SNOMED, "code": "372464004", "display": "Intradermal"}]}
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
                "code": {"coding": [{"system": fb.NDC, "code": "33332-0011-01"}]},
            }
        ],
        "medicationReference": {"reference": "#flu"},
        "dosageInstruction": [
            {
                "route": {"coding": [{"system": fb.SNOMED, "code": "78421000"}]},
                "doseAndRate": [{"doseQuantity": fb.dose(0.5, "mL")}],
            }
        ],
    }
    req["prefetch"]["conditions"]["entry"].append({"resource": vaccine_order})
    return req


def parenteral_nutrition() -> dict[str, Any]:
    """The HL7 R4 example's TPN bag (medadmin0309): Clinimix, its electrolytes, Intralipid."""
    bag = medication("Clinimix 4.25/10 sulfite-free (4.25% Amino Acid in 10% Dextrose) 1000 mL")
    del bag["code"]
    bag["ingredient"] = [
        {"itemCodeableConcept": {"coding": [{"system": fb.NDC, "code": ndc, "display": name}]}}
        for ndc, name in (
            ("0338-1134-03", "Clinimix 4.25/10 (4.25% Amino Acid in 10% Dextrose) Injection"),
            (
                "0409-5779-01",
                "TPN Electrolytes SODIUM CHLORIDE, CALCIUM CHLORIDE, POTASSIUM "
                "CHLORIDE, MAGNESIUM CHLORIDE, and SODIUM ACETATE ANHYDROUS",
            ),
            ("0338-0519-02", "Intralipid 20% IV Fat Emulsion"),
        )
    ]
    given = administration("ma-1", bag, 1000, "mL", IV_INFUSION)
    del given["effectiveDateTime"]
    given["effectivePeriod"] = {
        "start": f"{fb.DAY}T10:00:00-05:00",
        "end": f"{fb.DAY}T14:00:00-05:00",
    }
    del given["dosage"]["site"]
    return request([given], diagnoses=("K91.2",))


S_JOINT = "CPT 20600-20611 by joint size (docs/SOURCES.md §14); NCCI Policy Manual ch.IV"
S_SIDES = "First Coast 'Bilateral indicators': RT/LT on one side, 50 on both, one line"
KENALOG = "00003029305"


def kenalog_40() -> dict[str, Any]:
    return medication("Kenalog-40 (triamcinolone acetonide) 40 mg/mL 1 mL vial", "0003-0293-05")


def joint_injection(
    site: dict[str, Any],
    dose: float = 40,
    med: dict[str, Any] | None = None,
    method: str | None = None,
    route: dict[str, Any] = INTRA_ARTICULAR,
) -> dict[str, Any]:
    """A commercial patient's steroid injection into the charted site (knee OA diagnosis)."""
    given = administration("ma-1", med or kenalog_40(), dose, "mg", route, method=method)
    given["dosage"]["site"] = site
    return request([given], payer="commercial", diagnoses=("M17.11",))


def both_knees() -> dict[str, Any]:
    """Kenalog-40 40 mg into each knee, charted as two administrations."""
    req = joint_injection({"text": "right knee"})
    left = administration("ma-2", kenalog_40(), 40, "mg", INTRA_ARTICULAR, time="10:20")
    left["dosage"]["site"] = {"text": "left knee"}
    req["context"]["medicationAdministrations"]["entry"].append({"resource": left})
    return req


def knee_with_lidocaine() -> dict[str, Any]:
    """Kenalog-40 40 mg and lidocaine 1 % 4 mL into the right knee, charted apart."""
    req = joint_injection({"text": "right knee"})
    lidocaine = medication("lidocaine HCl 1% (10 mg/mL) 5 mL vial", "0409-4276-01")
    numbing = administration("ma-2", lidocaine, 40, "mg", INTRA_ARTICULAR, time="10:14")
    numbing["dosage"]["site"] = {"text": "right knee"}
    req["context"]["medicationAdministrations"]["entry"].append({"resource": numbing})
    return req


def joint_cases() -> list[Case]:
    """Joint and bursa injections: the arthrocentesis code by joint size, then the drug."""
    knee = {
        "coding": [{"system": fb.SNOMED, "code": "72696002", "display": "Knee region structure"}],
        "text": "right knee",
    }
    return [
        (
            "joints",
            "commercial_kenalog_40_right_knee",
            joint_injection(knee),
            [line("20610", 1, ("RT",)), line("J3301", 4, ndc=KENALOG)],
            f"{S_JOINT}: a major joint, no ultrasound: 20610, RT ({S_SIDES}); J3301 per 10 mg: "
            "40 mg = 4 units",
            None,
        ),
        (
            "joints",
            "commercial_depo_medrol_shoulder_ultrasound_recorded",
            joint_injection(
                {"text": "left shoulder, subacromial bursa"},
                med=medication("Depo-Medrol (methylprednisolone acetate) 40 mg/mL", "0009-3073-01"),
                method="ultrasound guided, images recorded and reported",
            ),
            [line("20611", 1, ("LT",)), line("J1010", 40, ndc="00009307301")],
            f"{S_JOINT}: ultrasound guidance with permanent recording: 20611, no 76942; "
            "J1010 per 1 mg",
            None,
        ),
        (
            "joints",
            "commercial_shoulder_ultrasound_not_recorded",
            joint_injection({"text": "left shoulder"}, method="ultrasound guided"),
            [line("20610", 1, ("LT",)), line("J3301", 4, ndc=KENALOG)],
            f"{S_JOINT}: guidance without its permanent recording and report is the unguided "
            "code; the guidance is not billed on its own",
            None,
        ),
        (
            "joints",
            "commercial_triamcinolone_10_mg_finger",
            joint_injection({"text": "right index finger PIP joint"}, dose=10),
            [line("20600", 1), line("J3301", 1, ndc=KENALOG)],
            f"{S_JOINT}: a small joint: 20600 (digits take F/T modifiers, not RT); 10 mg = 1 "
            "unit of J3301",
            None,
        ),
        (
            "joints",
            "commercial_joint_injection_site_names_no_joint",
            joint_injection({"text": "left hand"}),
            [],
            f"{S_JOINT}: the hand holds small and intermediate joints; no code until the chart "
            "names the joint (DOC019)",
            None,
        ),
        (
            "joints",
            "commercial_kenalog_and_lidocaine_right_knee_one_unit",
            knee_with_lidocaine(),
            [line("20610", 1, ("RT",)), line("J3301", 4, ndc=KENALOG)],
            f"{S_JOINT}: one joint in one session is one unit however many drugs went in; the "
            "local anaesthetic is part of the procedure (Highmark S-31-004), no drug line",
            None,
        ),
        (
            "joints",
            "commercial_synvisc_one_left_knee",
            joint_injection(
                {"text": "left knee"},
                dose=48,
                med=medication("Synvisc-One (hylan G-F 20) 48 mg/6 mL prefilled syringe"),
            ),
            [line("20610", 1, ("LT",)), line("J7325", 48)],
            f"{S_JOINT}: a hyaluronan bills its own crosswalk code, J7325 per 1 mg: 48 units",
            None,
        ),
        (
            "joints",
            "commercial_kenalog_40_both_knees_modifier_50",
            both_knees(),
            [
                line("20610", 1, ("50",)),
                line("J3301", 4, ndc=KENALOG),
                line("J3301", 4, ndc=KENALOG),
            ],
            f"{S_SIDES}: 20610 has bilateral indicator 1: one line, modifier 50, 1 unit",
            None,
        ),
        (
            "joints",
            "commercial_kenalog_40_both_knees_payer_wants_rt_lt",
            both_knees(),
            [
                line("20610", 1, ("RT",)),
                line("20610", 1, ("LT",)),
                line("J3301", 4, ndc=KENALOG),
                line("J3301", 4, ndc=KENALOG),
            ],
            "TMHP (Texas Medicaid) provider manual §36.4.47.4: a bilateral procedure without a "
            "bilateral code is billed twice with RT and LT (payer profile bilateral = RT/LT)",
            {"billing": {"profiles": {"commercial": {"bilateral": "RT/LT"}}}},
        ),
        (
            "joints",
            "commercial_kenalog_40_deltoid_im_is_96372",
            joint_injection(
                {"coding": [{"system": V2_SITE, "code": "LD", "display": "Left Deltoid"}]},
                route=IM,
            ),
            [inj(), line("J3301", 4, ndc=KENALOG)],
            "SOURCES-96372.md §1.1: an IM injection into the deltoid is 96372, whatever the drug",
            None,
        ),
    ]


def weekly_cases() -> list[Case]:
    """What a coder meets every week: one chart per everyday injection, coded by hand."""
    return [
        (
            "codes",
            "commercial_depo_medrol_80_charted_as_deleted_j1040",
            one(
                medication("Depo-Medrol 80 mg/mL", "0009-3475-01", "J1040"),
                80,
                "mg",
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
            one(
                medication("methylprednisolone acetate 40 mg/mL", None, "J1030"),
                40,
                "mg",
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
            one(
                medication("Prolia (denosumab) 60 mg/mL prefilled syringe", "55513-0710-01"),
                60,
                "mg",
                SC,
                diagnoses=("M81.0",),
            ),
            [inj(), line("J0897", 60, ("JZ",), ndc="55513071001")],
            f"{S_JWJZ}; {S_LABEL}: a whole single-dose prefilled syringe, JZ; J0897 per 1 mg",
            None,
        ),
        (
            "jwjz",
            "medicare_ketorolac_30_of_60_single_dose_label_waste_charted",
            one(
                medication("ketorolac tromethamine 60 mg/2 mL single-dose vial", "0409-3796-01"),
                30,
                "mg",
                extension=discarded(30, "mg"),
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
            one(
                vaccine("Fluarix 2026-2027 0.5 mL syringe", "150", "90686"),
                0.5,
                "mL",
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
            one(
                medication("Tubersol (tuberculin PPD) 5 TU/0.1 mL", "49281-0752-21"),
                0.1,
                "mL",
                INTRADERMAL,
                payer="commercial",
                diagnoses=("Z11.1",),
            ),
            [line("86580", 1)],
            "AAPC Pediatric Coding Alert 2010-09-16: 86580 includes the PPD and its placement; "
            "no 96372, no 90471, no J3490 line",
            None,
        ),
        (
            "nutrition",
            "medicare_clinimix_parenteral_nutrition_is_not_saline",
            parenteral_nutrition(),
            [],
            "NCD 180.2: parenteral nutrition is a prosthetic device benefit (HCPCS B4164-B5200, "
            "billed by the supplier), not hydration or a drug infusion; the sodium chloride of "
            "its electrolytes is not saline J7030",
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
    "BIL030": ("commercial_kenalog_40_right_knee", "office_pos_11"),
    "DOC019": (
        "commercial_joint_injection_site_names_no_joint",
        "commercial_kenalog_40_right_knee",
    ),
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
