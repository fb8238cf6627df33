"""Writes the coder fixtures in ``fixtures/coder/<family>/``: charts, then the expected claim.

Each case is written the way a certified coder works a chart: ``<name>.json`` holds the
whole hook request (FHIR R4, as an EHR sends it) under ``request`` and, under ``expected``,
the claim lines the coder expects (code, system, units, modifiers, claim: the layout of
tests/test_coder_cases.py), the same lines by the card (rule) that proposes them
(``by_card``), the cards that must (``cards``) or must not (``absent``) fire, the codes no
card may propose (``never``), and the source of the answer; ``settings`` a [billing]
configuration. The expected lines are written by hand in ``CASES`` below; nothing here runs
the service.

    .venv/bin/python tests/coder_fixture_factory.py      # rewrite fixtures/coder/

Some cases also serve as per-rule fixtures (``RULE_FIXTURES``: fixtures/rules/<CODE>/).
"""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import fhir_builders as fb

Json = dict[str, Any]
ROOT = Path(__file__).resolve().parents[1]
CODER_DIR = ROOT / "fixtures" / "coder"
RULES_DIR = ROOT / "fixtures" / "rules"
_NAMESPACE = uuid.UUID("6c0d7a52-93f1-4b8e-bd0e-2f4b9a1c7e33")
route = fb.route
IVPUSH = route("IVPUSH", "Injection, intravenous, push")
IVINF = route("IV", "Infusion, intravenous")
IVINFUS = route("IVINFUS", "Infusion, intravenous")
SQINFUS = route("SQINFUS", "Infusion, subcutaneous")
IVFLUSH = route("IVFLUSH", "Flush, intravenous catheter")
IM = fb.ROUTE_IM_V3
SQ = fb.ROUTE_SQ_V3
SQIMPLNT = route("SQIMPLNT", "Implantation, subcutaneous")
NASAL = route("NASINHL", "Inhalation, nasal")
ORAL = route("PO", "Swallow, oral")


def drug(text: str, *codings: tuple[str, str, str]) -> Json:
    return {"coding": [fb.coding(*c) for c in codings], "text": text}


def ndc(code: str, display: str) -> tuple[str, str, str]:
    return (fb.NDC, code, display)


def rx(code: str, display: str) -> tuple[str, str, str]:
    return (fb.RXNORM, code, display)


def cvx(code: str, display: str) -> tuple[str, str, str]:
    return (fb.CVX, code, display)


# Drugs as EHRs code them (NDCs from CMS's 2026 Q1 ASP NDC-HCPCS crosswalk).
CISPLATIN = drug("Cisplatin 50 mg/50 mL injection", ndc("00143-9504-01", "Cisplatin"))
PACLITAXEL = drug("Paclitaxel 300 mg/50 mL injection", ndc("00703-3213-01", "Paclitaxel"))
CARBOPLATIN = drug("Carboplatin 450 mg/45 mL injection", ndc("00703-4239-01", "Carboplatin"))
FLUOROURACIL = drug("Fluorouracil 500 mg/10 mL injection", ndc("16729-0276-38", "Fluorouracil"))
OXALIPLATIN = drug("Oxaliplatin 100 mg/20 mL injection", ndc("00703-3985-01", "Oxaliplatin"))
RITUXIMAB = drug("Rituxan (rituximab) 500 mg/50 mL", ndc("50242-0051-21", "Rituxan"))
TRASTUZUMAB = drug("Herceptin (trastuzumab) 150 mg vial", ndc("50242-0132-01", "Herceptin"))
INFLIXIMAB = drug("Remicade (infliximab) 100 mg vial", ndc("57894-0030-01", "Remicade"))
METHOTREXATE = drug(
    "Methotrexate sodium 50 mg/2 mL injection", ndc("00143-9367-01", "Methotrexate")
)
LEUPROLIDE = drug("Lupron Depot (leuprolide acetate 7.5 mg)", ndc("00074-3346-03", "Lupron Depot"))
FULVESTRANT = drug("Fulvestrant 250 mg/5 mL injection", ndc("00143-9022-02", "Fulvestrant"))
GOSERELIN = drug("Zoladex (goserelin) 3.6 mg implant", ndc("50090-3466-00", "Zoladex"))
DEGARELIX = drug("Firmagon (degarelix) 80 mg injection", ndc("55566-8303-01", "Firmagon"))
TRIPTORELIN = drug("Trelstar (triptorelin pamoate) 3.75 mg", ndc("74676-5902-01", "Trelstar"))
ONDANSETRON = drug(
    "Ondansetron 4 mg/2 mL injection",
    ndc("00404-9930-02", "Ondansetron HCl"),
    (fb.HCPCS, "J2405", "Ondansetron hcl injection"),
)
DEXAMETHASONE = drug(
    "Dexamethasone sodium phosphate 10 mg/mL injection",
    ndc("00404-9795-30", "Dexamethasone Sodium Phosphate"),
)
DIPHENHYDRAMINE = drug(
    "Diphenhydramine 50 mg/mL injection", ndc("00404-9851-01", "Diphenhydramine")
)
CEFTRIAXONE = fb.CEFTRIAXONE
SALINE_1000 = drug("Sodium chloride 0.9% 1000 mL bag", ndc("00264-5802-00", "Sodium Chloride"))
HEPARIN_FLUSH = drug(
    "Heparin lock flush 100 units/mL, 5 mL syringe",
    ndc("64253-0222-21", "Heparin (Porcine) Lock Flush"),
)
SALINE_FLUSH = drug("Sodium chloride 0.9% flush syringe 10 mL")
LIDOCAINE = drug(
    "Lidocaine HCl 1% injection (diluent)", rx("1010895", "lidocaine 10 MG/ML Injection")
)
HIZENTRA = drug(
    "Hizentra (immune globulin subcutaneous) 4 g/20 mL", ndc("44206-0451-01", "Hizentra")
)

FLU_IIV4 = drug("Influenza vaccine, quadrivalent, preservative free", cvx("150", "IIV4 PF"))
FLU_HD = drug("Fluzone High-Dose", cvx("135", "influenza, high dose seasonal"))
PPSV23 = drug("Pneumovax 23", cvx("33", "pneumococcal polysaccharide PPV23"))
PCV20 = drug("Prevnar 20", cvx("216", "Pneumococcal conjugate PCV20"))
HEPB_ADULT = drug("Engerix-B 20 mcg/mL", cvx("43", "Hep B, adult"))
COVID = drug("Comirnaty 2025-2026 (30 mcg/0.3 mL)", (fb.CPT, "91320", "SARS-CoV-2 vaccine 30 mcg"))
ZOSTER = drug("Shingrix (zoster vaccine recombinant)", cvx("187", "zoster recombinant"))
TDAP_CVX = drug("Tdap (Boostrix)", cvx("115", "Tdap"))
TDAP_NDC = drug("Adacel (Tdap) 0.5 mL", ndc("49281-0400-10", "Adacel"))
RSV = drug("Arexvy (RSV vaccine, adjuvanted)")
RABIES = drug("Imovax Rabies vaccine", cvx("175", "rabies IM, human diploid cell"))
MMR = drug("M-M-R II", cvx("03", "MMR"))
DTAP_IPV_HIB = drug("Pentacel (DTaP-IPV/Hib)", cvx("120", "DTaP-IPV/Hib"))
FLU_PEDS = drug("Influenza vaccine quadrivalent PF 0.5 mL (pediatric)", cvx("150", "IIV4 PF"))
FLU_NASAL = drug("FluMist (influenza vaccine live, intranasal)", cvx("111", "LAIV3"))
FLU_TEXT_ONLY = drug("Flu shot")


@dataclass
class Given:
    """One administration in a chart."""

    aid: str
    med: Json
    route: Json | None
    dose: tuple[float, str] | None
    start: str  # HH:MM on DAY
    end: str | None = None  # HH:MM: an effectivePeriod
    site: Json | None = None
    reason: str = "dx1"
    part_of: str | None = None
    method: str | None = None
    extension: Json | None = None


@dataclass
class Case:
    family: str
    name: str
    description: str
    source: str
    given: list[Given]
    expected: dict[str, list[tuple[str, int, tuple[str, ...]]]]  # rule -> lines
    payer: str = "commercial"
    icd: tuple[str, str] = ("C34.90", "Malignant neoplasm of unspecified part of lung")
    birth: str = "1958-03-02"
    cards: tuple[str, ...] = ()  # rules that must fire (with or without lines)
    absent: tuple[str, ...] = ()  # rules that must not fire
    never: tuple[str, ...] = ()  # codes that must appear on no card
    immunizations: list[Json] = field(default_factory=list)
    place_of_service: str | None = None  # e.g. "22": Encounter.location POS coding
    encounter_class: str | None = None  # v3 ActCode, e.g. "OBSENC" (hospital outpatient)
    crosswalk: bool = False  # needs the ASP crosswalk (../shared/data/cms)
    profile: Json | None = None  # a [billing.profiles.<payer>] section


def administration(given: Given) -> Json:
    amount = fb.dose(*given.dose) if given.dose else {}
    resource = fb.administration(
        given.aid,
        med=fb.medication(given.med, mid=f"med-{given.aid}", form=None),
        route=given.route,
        site=given.site,
        amount=amount,
        dosage_text=None,
        effective=None if given.end else fb.at(given.start),
        reason_reference=given.reason,
    )
    if given.end:
        resource["effectivePeriod"] = {"start": fb.at(given.start), "end": fb.at(given.end)}
    resource["request"] = {"reference": f"MedicationRequest/ord-{given.aid}"}
    if given.part_of:
        resource["partOf"] = [{"reference": f"MedicationAdministration/{given.part_of}"}]
    if given.method:
        resource.setdefault("dosage", {})["method"] = {"text": given.method}
    if given.extension:
        resource["extension"] = [given.extension]
    return resource


def immunization(iid: str, vaccine: Json, **extra: Any) -> Json:
    resource: Json = {
        "resourceType": "Immunization",
        "id": iid,
        "status": "completed",
        "vaccineCode": copy.deepcopy(vaccine),
        "patient": {"reference": f"Patient/{fb.PATIENT_ID}"},
        "encounter": {"reference": f"Encounter/{fb.ENCOUNTER_ID}"},
        "occurrenceDateTime": fb.at("10:00"),
    }
    resource.update(extra)
    return resource


EDUCATION = [{"documentType": "253088698300012711120420", "presentationDate": fb.DAY}]
FUNDING_PUBLIC = {
    "coding": [
        fb.coding(
            "http://terminology.hl7.org/CodeSystem/immunization-funding-source", "public", "Public"
        )
    ]
}
ELIGIBILITY_VFC_MEDICAID = [
    {
        "coding": [
            fb.coding(
                "http://terminology.hl7.org/CodeSystem/v2-0064",
                "V02",
                "VFC eligible - Medicaid/Medicaid Managed Care",
            )
        ]
    }
]


def build(case: Case) -> Json:
    cond = fb.condition("dx1", icd=case.icd, snomed=None, text=case.icd[1])
    enc = fb.encounter(diagnoses=("dx1",))
    if case.encounter_class:
        enc["class"] = fb.coding(fb.V3_ACT, case.encounter_class, "observation")
    if case.place_of_service:
        enc["location"] = [
            {
                "location": {
                    "reference": "Location/loc-1",
                    "display": f"place of service {case.place_of_service}",
                }
            }
        ]
    body = fb.request(
        fb.CHARTING,
        case.name,
        [administration(g) for g in case.given],
        conditions=[cond],
        enc=enc,
        cov=fb.coverage(fb.PAYER_TYPOLOGY[case.payer]),
        includes=case.immunizations,
    )
    body["hookInstance"] = str(uuid.uuid5(_NAMESPACE, f"{case.family}/{case.name}"))
    body["prefetch"]["patient"]["birthDate"] = case.birth
    return body


def expected(case: Case) -> Json:
    """The coder's claim: every line (code, system, units, modifiers, claim), and per card."""
    claim = "institutional" if case.encounter_class == "OBSENC" else "professional"
    by_card = {
        rule: [fb.claim_line(code, units, mods, claim) for code, units, mods in lines]
        for rule, lines in case.expected.items()
    }
    found: Json = {
        "description": case.description,
        "lines": [line for lines in by_card.values() for line in lines],
        "source": case.source,
        "by_card": by_card,
    }
    for key in ("cards", "absent", "never"):
        if getattr(case, key):
            found[key] = list(getattr(case, key))
    return found


def settings(case: Case) -> Json | None:
    """The case's [billing] configuration (paths relative to the repository)."""
    billing: Json = {}
    if case.crosswalk:
        billing["asp_crosswalk"] = "../shared/data/cms/asp-crosswalk-2026q1.csv"
    if case.profile:
        billing["profiles"] = {case.payer: case.profile}
    return {"billing": billing} if billing else None


L = tuple[str, int, tuple[str, ...]]


def line(code: str, units: int = 1, *mods: str) -> L:
    return (code, units, tuple(mods))


# --- the cases ------------------------------------------------------------------------------
CPT_CHEMO = "CPT 96401-96417 guidelines; Pub 100-04 ch.12 §30.5 (docs/SOURCES.md §12.4)"
CPT_HORMONAL = (
    "CPT 96402 (hormonal anti-neoplastic); Pub 100-04 ch.12 §30.5 (docs/SOURCES.md §12.5)"
)
CPT_TIME = (
    "CPT 96360-96376 guidelines, time and hierarchy; Pub 100-04 ch.12 §30.5 "
    "(docs/SOURCES.md §12.1-12.3)"
)
FLUSH_SRC = (
    "CPT drug administration guidelines (flush, preparation included); NCCI ch.11 "
    "(docs/SOURCES.md §12.3)"
)
PART_B = (
    "Pub 100-02 ch.15 §50.4.4.2; Pub 100-04 ch.18 §10; CDC CPT-CVX mapping "
    "(docs/SOURCES.md §12.9-12.12)"
)
PEDS = "CPT 90460/90461; AAP vaccine components (docs/SOURCES.md §12.10); CDC CPT-CVX mapping"
VFC = "CDC VFC operations guide; Medicaid SL modifier (docs/SOURCES.md §12.12)"
Z23 = ("Z23", "Encounter for immunization")
RA = ("M05.79", "Rheumatoid arthritis with rheumatoid factor of multiple sites")
PROSTATE = ("C61", "Malignant neoplasm of prostate")
BREAST = ("C50.911", "Malignant neoplasm of unspecified site of right female breast")
CROHN = ("K50.90", "Crohn's disease, unspecified, without complications")
DEHYDRATION = ("E86.0", "Dehydration")
PNEUMONIA = ("J18.9", "Pneumonia, unspecified organism")
PID = ("D80.1", "Nonfamilial hypogammaglobulinemia")
LACERATION = ("S61.412A", "Laceration without foreign body of right hand, initial encounter")
DOG_BITE = ("W54.0XXA", "Bitten by dog, initial encounter")
SITE = fb.SITE_RG
ARM = fb.SITE_LD
V = "BIL003"


def G(*args: Any, **kwargs: Any) -> Given:  # noqa: N802  (reads like the chart)
    return Given(*args, **kwargs)


LEFT_ARM = fb.SITE_LEFT_UPPER_ARM_SNOMED
FUNDING_PUBLIC_EXTENSION = {
    "url": "https://injection-cds.org/fhir/StructureDefinition/vaccine-funding",
    "valueCoding": {
        "system": "http://terminology.hl7.org/CodeSystem/immunization-funding-source",
        "code": "public",
    },
}


def shot(
    aid: str,
    product: Json,
    start: str = "10:00",
    site: Json | None = ARM,
    *,
    route: Json = IM,
    volume: float = 0.5,
    extension: Json | None = None,
) -> Given:
    """A vaccine given as most are: 0.5 mL IM in the deltoid at 10:00."""
    return Given(aid, product, route, (volume, "mL"), start, site=site, extension=extension)


MMR_SC = shot("ma-mmr", MMR, site=LEFT_ARM, route=SQ)


def vaccine(
    name: str,
    description: str,
    given: list[Given],
    lines: list[L],
    *,
    source: str = PART_B,
    icd: tuple[str, str] = Z23,
    **options: Any,
) -> Case:
    """A vaccine case: its lines on the vaccine card (BIL003); with no lines, no such card."""
    return Case(
        "vaccine", name, description, source, given, {V: lines} if lines else {}, icd=icd, **options
    )


# Charts two cases share: the same administrations in two settings or for two payers.
TRELSTAR_IM = G("ma-trel", TRIPTORELIN, IM, (3.75, "mg"), "10:00", site=SITE)
INFLIXIMAB_130_MINUTES = G("ma-ifx", INFLIXIMAB, IVINF, (400, "mg"), "10:00", end="12:10")
INFUSION_THEN_PUSHES = [
    G("ma-cro", CEFTRIAXONE, IVINF, (1, "g"), "10:00", end="10:40"),
    G("ma-dex1", DEXAMETHASONE, IVPUSH, (10, "mg"), "10:45"),
    G("ma-dex2", DEXAMETHASONE, IVPUSH, (10, "mg"), "11:30"),
]
INFUSION_THEN_PUSHES_DRUGS = [line("J0696", 4), line("J1100", 10), line("J1100", 10)]

chemotherapy = partial(Case, "chemotherapy")
infusion = partial(Case, "infusion")
flush = partial(Case, "flush")

CASES: list[Case] = [
    # chemotherapy SC/IM -------------------------------------------------------------------
    chemotherapy(
        "sc_methotrexate_ra",
        "methotrexate 25 mg SC for rheumatoid arthritis",
        CPT_CHEMO,
        [G("ma-mtx", METHOTREXATE, SQ, (25, "mg"), "10:00", site=ARM)],
        {"BIL010": [line("96401"), line("J9260")]},
        icd=RA,
        never=("96372",),
    ),
    chemotherapy(
        "im_leuprolide_medicare",
        "Lupron Depot 7.5 mg IM, prostate cancer, Medicare",
        CPT_HORMONAL,
        [G("ma-lupron", LEUPROLIDE, IM, (7.5, "mg"), "10:00", site=SITE)],
        {"BIL010": [line("96402"), line("J9217")]},
        payer="medicare",
        icd=PROSTATE,
        never=("96372",),
    ),
    chemotherapy(
        "im_fulvestrant",
        "fulvestrant 500 mg IM, breast cancer",
        CPT_HORMONAL,
        [G("ma-fulv", FULVESTRANT, IM, (500, "mg"), "10:00", site=SITE)],
        {"BIL010": [line("96402"), line("J9395", 20)]},
        icd=BREAST,
        never=("96372",),
    ),
    chemotherapy(
        "implant_goserelin",
        "Zoladex 3.6 mg SC implant (route SQIMPLNT)",
        CPT_HORMONAL,
        [G("ma-zol", GOSERELIN, SQIMPLNT, (3.6, "mg"), "10:00", site=fb.SITE_ABDOMEN_SNOMED)],
        {"BIL010": [line("96402"), line("J9202")]},
        payer="medicare",
        icd=PROSTATE,
        never=("96372",),
    ),
    chemotherapy(
        "sc_degarelix_loading",
        "Firmagon 240 mg SC loading dose",
        CPT_HORMONAL,
        [G("ma-firm", DEGARELIX, SQ, (240, "mg"), "10:00", site=fb.SITE_ABDOMEN_SNOMED)],
        {"BIL010": [line("96402"), line("J9155", 240)]},
        payer="medicare",
        icd=PROSTATE,
    ),
    chemotherapy(
        "im_triptorelin_default",
        "Trelstar 3.75 mg IM: hormonal anti-neoplastic",
        CPT_HORMONAL,
        [TRELSTAR_IM],
        {"BIL010": [line("96402"), line("J3315")]},
        payer="medicare",
        icd=PROSTATE,
    ),
    chemotherapy(
        "im_triptorelin_payer_excludes",
        "Trelstar IM for a payer that bills J3315 with 96372",
        "Independence Blue Cross/AmeriHealth 21-3144: J3315 not reported with 96401-96459 "
        "(docs/SOURCES.md §12.6)",
        [TRELSTAR_IM],
        {"BIL001": [line("96372"), line("J3315")]},
        icd=PROSTATE,
        absent=("BIL010",),
        profile={"chemo_excluded_hcpcs": ["J3315"]},
    ),
    # chemotherapy IV --------------------------------------------------------------------------
    chemotherapy(
        "push_fluorouracil",
        "5-FU 500 mg IV push over 5 minutes",
        CPT_CHEMO,
        [G("ma-5fu", FLUOROURACIL, IVPUSH, (500, "mg"), "10:00", end="10:05")],
        {"BIL002": [line("96409"), line("J9190")]},
        icd=("C18.9", "Malignant neoplasm of colon, unspecified"),
    ),
    chemotherapy(
        "paclitaxel_cisplatin_with_premeds",
        "premeds dexamethasone and diphenhydramine pushed, "
        "paclitaxel 185 min then cisplatin 65 min",
        CPT_CHEMO + "; " + CPT_TIME,
        [
            G("ma-dex", DEXAMETHASONE, IVPUSH, (10, "mg"), "08:45"),
            G("ma-dph", DIPHENHYDRAMINE, IVPUSH, (25, "mg"), "08:50"),
            G("ma-pac", PACLITAXEL, IVINF, (300, "mg"), "09:00", end="12:05"),
            G("ma-cis", CISPLATIN, IVINF, (50, "mg"), "12:10", end="13:15"),
        ],
        {
            "BIL002": [
                line("96413"),
                line("96415", 2),
                line("96417"),
                line("96375"),
                line("96375"),
                line("J9267", 300),
                line("J9060", 5),
                line("J1100", 10),
                line("J1200"),
            ]
        },
        never=("96372", "96374", "96365"),
    ),
    chemotherapy(
        "rituximab_255_minutes",
        "rituximab 700 mg over 4 h 15 min",
        CPT_CHEMO,
        [G("ma-rtx", RITUXIMAB, IVINF, (700, "mg"), "09:30", end="13:45")],
        {"BIL002": [line("96413"), line("96415", 3), line("J9312", 70)]},
        icd=("C83.30", "Diffuse large B-cell lymphoma, unspecified site"),
    ),
    chemotherapy(
        "infliximab_medicare_complex",
        "infliximab 400 mg over 130 min, Crohn's, Medicare",
        "Noridian JF complex biological and rheumatological therapies, CR 13468 "
        "(docs/SOURCES.md §12.7)",
        [INFLIXIMAB_130_MINUTES],
        {"BIL002": [line("96413"), line("96415"), line("J1745", 40)]},
        payer="medicare",
        icd=CROHN,
    ),
    chemotherapy(
        "infliximab_payer_without_biologics",
        "infliximab for a payer that routes biologics to 96365 (complex_biologics = false)",
        "payer profile; conflicting payer policies (docs/SOURCES.md §12.6-12.7)",
        [INFLIXIMAB_130_MINUTES],
        {"BIL002": [line("96365"), line("96366"), line("J1745", 40)]},
        icd=CROHN,
        profile={"complex_biologics": False},
    ),
    chemotherapy(
        "cisplatin_no_route_synthea_style",
        "cisplatin charted with no route and one time (as Synthea)",
        CPT_CHEMO,
        [G("ma-cis", CISPLATIN, None, (50, "mg"), "10:00")],
        {"BIL022": [line("J9060", 5)]},
        cards=("DOC001",),
        never=("96372",),
    ),
    chemotherapy(
        "cisplatin_infusion_no_times",
        "cisplatin IV infusion charted without start/stop",
        CPT_CHEMO,
        [G("ma-cis", CISPLATIN, IVINF, (50, "mg"), "10:00")],
        {"BIL002": [line("96413"), line("J9060", 5)]},
        cards=("DOC016",),
    ),
    chemotherapy(
        "trastuzumab_then_hydration",
        "trastuzumab 90 min, then saline 70 min",
        CPT_CHEMO + "; " + CPT_TIME,
        [
            G("ma-her", TRASTUZUMAB, IVINF, (300, "mg"), "09:00", end="10:30"),
            G("ma-ns", SALINE_1000, IVINF, (1000, "mL"), "10:35", end="11:45"),
        ],
        {"BIL002": [line("96413"), line("96361"), line("J9355", 30), line("J7030")]},
        icd=BREAST,
    ),
    # infusions by duration ------------------------------------------------------------------
    infusion(
        "ceftriaxone_30_minutes",
        "ceftriaxone 1 g IV piggyback over 30 minutes",
        CPT_TIME,
        [G("ma-cro", CEFTRIAXONE, IVINF, (1, "g"), "10:00", end="10:30")],
        {"BIL002": [line("96365"), line("J0696", 4)]},
        icd=PNEUMONIA,
        never=("96372",),
    ),
    infusion(
        "ceftriaxone_10_minutes_is_push",
        "ceftriaxone charted as infusion, 10 minutes: a push",
        CPT_TIME,
        [G("ma-cro", CEFTRIAXONE, IVINF, (1, "g"), "10:00", end="10:10")],
        {"BIL002": [line("96374"), line("J0696", 4)]},
        icd=PNEUMONIA,
    ),
    infusion(
        "hydration_90_minutes",
        "normal saline 1000 mL over 90 minutes",
        CPT_TIME,
        [G("ma-ns", SALINE_1000, IVINF, (1000, "mL"), "09:00", end="10:30")],
        {"BIL002": [line("96360"), line("J7030")]},
        icd=DEHYDRATION,
    ),
    infusion(
        "hydration_151_minutes",
        "normal saline over 2 h 31 min: two added hours",
        CPT_TIME,
        [G("ma-ns", SALINE_1000, IVINF, (1000, "mL"), "09:00", end="11:31")],
        {"BIL002": [line("96360"), line("96361", 2), line("J7030")]},
        icd=DEHYDRATION,
    ),
    infusion(
        "hydration_20_minutes_not_billed",
        "normal saline over 20 minutes",
        CPT_TIME,
        [G("ma-ns", SALINE_1000, IVINF, (1000, "mL"), "09:00", end="09:20")],
        {},
        icd=DEHYDRATION,
        cards=("BIL021",),
        absent=("BIL002",),
        never=("96360", "J7030"),
    ),
    infusion(
        "infusion_then_pushes_office",
        "ceftriaxone 40 min, dexamethasone pushed twice (office)",
        CPT_TIME + "; +96376 facility only",
        INFUSION_THEN_PUSHES,
        {"BIL002": [line("96365"), line("96375"), *INFUSION_THEN_PUSHES_DRUGS]},
        icd=PNEUMONIA,
        never=("96376",),
    ),
    infusion(
        "infusion_then_pushes_hospital_outpatient",
        "the same chart on an observation stay (POS 22): the hospital also reports +96376",
        CPT_TIME + "; Pub 100-04 ch.4 §230.2",
        INFUSION_THEN_PUSHES,
        {"BIL002": [line("96365"), line("96375"), line("96376"), *INFUSION_THEN_PUSHES_DRUGS]},
        icd=PNEUMONIA,
        encounter_class="OBSENC",
    ),
    infusion(
        "hydration_concurrent_not_billed",
        "saline run alongside a ceftriaxone infusion",
        CPT_TIME,
        [
            G("ma-cro", CEFTRIAXONE, IVINF, (1, "g"), "10:00", end="10:40"),
            G("ma-ns", SALINE_1000, IVINF, (1000, "mL"), "10:00", end="11:00"),
        ],
        {"BIL002": [line("96365"), line("J0696", 4)]},
        icd=PNEUMONIA,
        cards=("BIL021",),
    ),
    infusion(
        "sc_immune_globulin_105_minutes",
        "Hizentra 4 g subcutaneous infusion over 105 minutes",
        CPT_TIME + " (96369-96371)",
        [
            G(
                "ma-hiz",
                HIZENTRA,
                SQINFUS,
                (4, "g"),
                "09:00",
                end="10:45",
                site=fb.SITE_ABDOMEN_SNOMED,
            )
        ],
        {"BIL002": [line("96369"), line("96370"), line("J1559", 40)]},
        icd=PID,
        never=("96372",),
    ),
    infusion(
        "sc_immune_globulin_two_sites",
        "Hizentra at two sites, two pumps, 60 minutes each",
        CPT_TIME + " (96369-96371)",
        [
            G(
                "ma-hiz1",
                HIZENTRA,
                SQINFUS,
                (2, "g"),
                "09:00",
                end="10:00",
                site=fb.SITE_ABDOMEN_SNOMED,
            ),
            G(
                "ma-hiz2",
                HIZENTRA,
                SQINFUS,
                (2, "g"),
                "09:00",
                end="10:00",
                site=fb.SITE_LEFT_UPPER_ARM_SNOMED,
            ),
        ],
        {"BIL002": [line("96369"), line("96371"), line("J1559", 20), line("J1559", 20)]},
        icd=PID,
    ),
    infusion(
        "infusion_without_times",
        "ceftriaxone IV infusion charted with one time",
        CPT_TIME,
        [G("ma-cro", CEFTRIAXONE, IVINFUS, (1, "g"), "10:00")],
        {"BIL002": [line("96365"), line("J0696", 4)]},
        icd=PNEUMONIA,
        cards=("DOC016",),
    ),
    infusion(
        "snomed_iv_with_times",
        "route SNOMED intravenous, 45 minutes: an infusion",
        CPT_TIME,
        [
            G(
                "ma-cro",
                CEFTRIAXONE,
                {"coding": [fb.coding(fb.SNOMED, "47625008", "Intravenous route")]},
                (1, "g"),
                "10:00",
                end="10:45",
            )
        ],
        {"BIL002": [line("96365"), line("J0696", 4)]},
        icd=PNEUMONIA,
        absent=("DOC001", "DOC016"),
    ),
    # flushes and diluents -------------------------------------------------------------------
    flush(
        "heparin_lock_flush_after_infusion",
        "heparin lock flush (IVFLUSH) after an infusion",
        FLUSH_SRC,
        [
            G("ma-cro", CEFTRIAXONE, IVINF, (1, "g"), "10:00", end="10:30"),
            G("ma-hep", HEPARIN_FLUSH, IVFLUSH, (500, "[iU]"), "10:31"),
        ],
        {"BIL002": [line("96365"), line("J0696", 4)]},
        icd=PNEUMONIA,
        cards=("BIL017",),
        never=("J1642", "J1644", "96374", "96375"),
    ),
    flush(
        "saline_flush_charted_as_push",
        "saline flush charted with route IVPUSH before a push",
        FLUSH_SRC,
        [
            G("ma-nsf", SALINE_FLUSH, IVPUSH, (10, "mL"), "09:59"),
            G("ma-dex", DEXAMETHASONE, IVPUSH, (10, "mg"), "10:00"),
        ],
        {"BIL002": [line("96374"), line("J1100", 10)]},
        icd=PNEUMONIA,
        cards=("BIL017",),
        never=("96375", "J3490"),
    ),
    flush(
        "lidocaine_diluent_ceftriaxone_im",
        "ceftriaxone 1 g IM reconstituted with lidocaine 1%",
        FLUSH_SRC,
        [
            G("ma-cro", CEFTRIAXONE, IM, (1, "g"), "10:00", site=SITE),
            G("ma-lido", LIDOCAINE, IM, (2.1, "mL"), "10:00", site=SITE, part_of="ma-cro"),
        ],
        {"BIL001": [line("96372"), line("J0696", 4)]},
        icd=PNEUMONIA,
        cards=("BIL017",),
        never=("J2001", "J3490"),
        absent=("BIL012", "BIL011"),
    ),
    # vaccines ---------------------------------------------------------------------------------
    vaccine(
        "medicare_flu_cvx_only",
        "Medicare flu shot, CVX only",
        [shot("ma-flu", FLU_IIV4)],
        [line("G0008"), line("90686")],
        payer="medicare",
        never=("96372", "90471"),
    ),
    vaccine(
        "medicare_high_dose_flu_and_pcv20",
        "Medicare: Fluzone High-Dose and Prevnar 20",
        [shot("ma-flu", FLU_HD), shot("ma-pcv", PCV20, "10:05", LEFT_ARM)],
        [line("G0008"), line("90662"), line("G0009"), line("90677")],
        payer="medicare",
        never=("96372", "90471", "90472"),
    ),
    vaccine(
        "medicare_ppsv23",
        "Medicare: Pneumovax 23",
        [shot("ma-ppsv", PPSV23)],
        [line("G0009"), line("90732")],
        payer="medicare",
        never=("96372",),
    ),
    vaccine(
        "medicare_hepatitis_b",
        "Medicare: Engerix-B adult dose",
        [shot("ma-hepb", HEPB_ADULT, volume=1)],
        [line("G0010"), line("90746")],
        payer="medicare",
        never=("96372",),
    ),
    vaccine(
        "medicare_covid",
        "Medicare: Comirnaty 2025-2026, CPT product code charted",
        [shot("ma-cov", COVID, volume=0.3)],
        [line("90480"), line("91320")],
        payer="medicare",
        never=("96372", "90471"),
    ),
    # Part D vaccines: no Part B line, the card that says so (BIL018) instead
    *(
        vaccine(
            name,
            f"Medicare: {label} — Part D",
            [shot(aid, product)],
            [],
            payer="medicare",
            cards=("BIL018",),
            absent=("BIL003",),
            never=never,
        )
        for name, label, aid, product, never in (
            ("medicare_zoster_part_d", "Shingrix", "ma-shx", ZOSTER, ("96372", "90471", "90750")),
            ("medicare_rsv_part_d", "Arexvy (RSV)", "ma-rsv", RSV, ("96372",)),
            (
                "medicare_tdap_routine_part_d",
                "routine Tdap booster",
                "ma-tdap",
                TDAP_CVX,
                ("96372",),
            ),
        )
    ),
    vaccine(
        "medicare_tdap_after_laceration",
        "Medicare: Tdap for a hand laceration — Part B",
        [shot("ma-tdap", TDAP_CVX)],
        [line("90471"), line("90715")],
        payer="medicare",
        icd=LACERATION,
        absent=("BIL018",),
        never=("96372",),
    ),
    vaccine(
        "medicare_tdap_ndc_only_injury",
        "Medicare: Adacel charted by NDC only, after a wound",
        [shot("ma-tdap", TDAP_NDC)],
        [line("90471"), line("90715")],
        source=PART_B + "; CMS ASP NDC-HCPCS crosswalk 2026 Q1 (the shipped quarter)",
        payer="medicare",
        icd=LACERATION,
        never=("96372",),
    ),
    vaccine(
        "medicare_rabies_after_dog_bite",
        "Medicare: rabies vaccine after a dog bite — Part B",
        [shot("ma-rab", RABIES, volume=1)],
        [line("90471"), line("90675")],
        payer="medicare",
        icd=DOG_BITE,
        never=("96372",),
    ),
    vaccine(
        "peds_mmr_counselled",
        "4-year-old, MMR, physician counselling documented",
        [MMR_SC],
        [line("90460"), line("90461", 2), line("90707")],
        source=PEDS,
        birth="2022-06-01",
        immunizations=[immunization("imm-mmr", MMR, education=EDUCATION)],
        never=("96372", "90471"),
    ),
    vaccine(
        "peds_pentacel_and_flu_counselled",
        "2-year-old: Pentacel and flu, counselled",
        [shot("ma-pent", DTAP_IPV_HIB, site=LEFT_ARM), shot("ma-flu", FLU_PEDS, "10:05")],
        [line("90460"), line("90461", 4), line("90698"), line("90460"), line("90686")],
        source=PEDS,
        birth="2024-09-10",
        immunizations=[immunization("imm-pent", DTAP_IPV_HIB, education=EDUCATION)],
    ),
    vaccine(
        "peds_mmr_no_counselling",
        "4-year-old, MMR, no counselling visible",
        [MMR_SC],
        [line("90471"), line("90707")],
        source=PEDS,
        birth="2022-06-01",
        cards=("DOC017",),
        never=("90460", "96372"),
    ),
    vaccine(
        "vfc_medicaid_sl",
        "Medicaid 4-year-old, VFC MMR (Immunization.fundingSource public)",
        [MMR_SC],
        [line("90460"), line("90461", 2), line("90707", 1, "SL")],
        source=VFC,
        payer="medicaid",
        birth="2022-06-01",
        cards=("BIL019",),
        immunizations=[
            immunization(
                "imm-mmr",
                MMR,
                education=EDUCATION,
                fundingSource=FUNDING_PUBLIC,
                programEligibility=ELIGIBILITY_VFC_MEDICAID,
            )
        ],
    ),
    vaccine(
        "vfc_extension_commercial_zero",
        "VFC-eligible child, funding on the administration's extension",
        [shot("ma-flu", FLU_PEDS, extension=FUNDING_PUBLIC_EXTENSION)],
        [line("90471"), line("90686")],
        source=VFC,
        birth="2016-02-02",
        cards=("BIL019", "DOC017"),
    ),
    vaccine(
        "adult_flu_and_tdap_commercial",
        "adult, commercial: flu and Tdap",
        [shot("ma-flu", FLU_IIV4), shot("ma-tdap", TDAP_CVX, "10:05", LEFT_ARM)],
        [line("90471"), line("90686"), line("90715"), line("90472")],
        source="CPT 90471/90472; " + PART_B,
        birth="1990-01-01",
        never=("96372",),
    ),
    vaccine(
        "adult_nasal_flu_then_tdap",
        "adult: FluMist (nasal) then Tdap",
        [
            shot("ma-laiv", FLU_NASAL, site=None, route=NASAL, volume=0.2),
            shot("ma-tdap", TDAP_CVX, "10:05"),
        ],
        [line("90473"), line("90660"), line("90715"), line("90472")],
        source="CPT 90473/90472",
        birth="1990-01-01",
    ),
    vaccine(
        "flu_text_only_no_product",
        "adult: 'Flu shot' charted as text only",
        [shot("ma-flu", FLU_TEXT_ONLY)],
        [line("90471")],
        birth="1990-01-01",
        cards=("BIL020",),
        never=("96372",),
    ),
]

# Per-rule fixtures (fixtures/rules/<CODE>/) drawn from the cases.
RULE_FIXTURES: dict[str, dict[str, str]] = {
    "BIL017": {
        "fail_heparin_lock_flush": "flush/heparin_lock_flush_after_infusion",
        "pass_infusion_without_flush": "infusion/ceftriaxone_30_minutes",
    },
    "BIL018": {
        "fail_medicare_zoster": "vaccine/medicare_zoster_part_d",
        "pass_medicare_tdap_after_laceration": "vaccine/medicare_tdap_after_laceration",
    },
    "BIL019": {
        "fail_vfc_medicaid": "vaccine/vfc_medicaid_sl",
        "pass_private_stock": "vaccine/peds_mmr_counselled",
    },
    "BIL020": {
        "fail_flu_text_only": "vaccine/flu_text_only_no_product",
        "pass_cvx_charted": "vaccine/medicare_flu_cvx_only",
    },
    "BIL021": {
        "fail_hydration_20_minutes": "infusion/hydration_20_minutes_not_billed",
        "pass_hydration_90_minutes": "infusion/hydration_90_minutes",
    },
    "BIL022": {
        "fail_cisplatin_no_route": "chemotherapy/cisplatin_no_route_synthea_style",
        "pass_paclitaxel_cisplatin_timed": "chemotherapy/paclitaxel_cisplatin_with_premeds",
    },
    "DOC016": {
        "fail_infusion_without_times": "infusion/infusion_without_times",
        "pass_infusion_with_times": "infusion/ceftriaxone_30_minutes",
    },
    "DOC017": {
        "fail_peds_mmr_no_counselling": "vaccine/peds_mmr_no_counselling",
        "pass_peds_mmr_counselled": "vaccine/peds_mmr_counselled",
    },
}


def write() -> int:
    count = 0
    for case in CASES:
        folder = CODER_DIR / case.family
        folder.mkdir(parents=True, exist_ok=True)
        document: Json = {"request": build(case), "expected": expected(case)}
        if settings(case):
            document["settings"] = settings(case)
        (folder / f"{case.name}.json").write_text(
            json.dumps(document, indent=2, ensure_ascii=False) + "\n", "utf-8"
        )
        count += 1
    by_name = {f"{c.family}/{c.name}": c for c in CASES}
    for rule, fixtures in RULE_FIXTURES.items():
        for fixture_name, case_name in fixtures.items():
            folder = RULES_DIR / rule
            folder.mkdir(parents=True, exist_ok=True)
            body = build(by_name[case_name])
            (folder / f"{fixture_name}.json").write_text(json.dumps(body, indent=2) + "\n", "utf-8")
    return count


if __name__ == "__main__":
    print(f"wrote {write()} coder fixtures")
