"""The drugs and problems a synthetic clinic charts (test data, not a drug reference)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final


@dataclass(frozen=True)
class DrugSpec:
    """One injectable product as charted: what the Medication and dose say."""

    text: str
    ndc: str
    rxnorm_ingredient: tuple[str, str]
    dose_value: float
    dose_unit: str
    routes: tuple[str, ...]
    sites: tuple[str, ...]
    hcpcs: str | None = None
    cvx: tuple[str, str] | None = None
    rxnorm_product: tuple[str, str] | None = None


def _drug(
    text: str,
    ndc: str,
    ingredient: tuple[str, str],
    dose: tuple[float, str],
    routes: tuple[str, ...],
    sites: tuple[str, ...],
    hcpcs: str | None,
    **extra: Any,
) -> DrugSpec:
    return DrugSpec(text, ndc, ingredient, dose[0], dose[1], routes, sites, hcpcs, **extra)


_GLUTE = ("LG", "RG", "LVL", "RVL")
_DELTOID = ("LD", "RD")
_CEFTRIAXONE = ("2193", "ceftriaxone")
_KETOROLAC = ("35827", "ketorolac")
_DEXAMETHASONE = ("3264", "dexamethasone")
_METHYLPRED = ("6902", "methylprednisolone")

DRUGS: Final[dict[str, DrugSpec]] = {
    "ceftriaxone-1g": _drug(
        "ceftriaxone 1 g powder for injection (vial)",
        "0409-7332-01",
        _CEFTRIAXONE,
        (1, "g"),
        ("IM",),
        _GLUTE,
        "J0696",
        rxnorm_product=("1665021", "ceftriaxone 1000 MG Injection"),
    ),
    "ceftriaxone-500mg": _drug(
        "ceftriaxone 500 mg powder for injection (vial)",
        "0409-7337-01",
        _CEFTRIAXONE,
        (500, "mg"),
        ("IM",),
        _GLUTE,
        "J0696",
    ),
    "ketorolac-30mg": _drug(
        "ketorolac tromethamine 30 mg/mL injection",
        "0409-3795-01",
        _KETOROLAC,
        (30, "mg"),
        ("IM", "IM", "IVPUSH"),
        _GLUTE,
        "J1885",
    ),
    "ketorolac-60mg": _drug(
        "ketorolac tromethamine 60 mg/2 mL injection",
        "0409-3796-01",
        _KETOROLAC,
        (60, "mg"),
        ("IM",),
        _GLUTE,
        "J1885",
    ),
    "cyanocobalamin-1000mcg": _drug(
        "cyanocobalamin 1000 mcg/mL injection",
        "0517-0031-25",
        ("11248", "cyanocobalamin"),
        (1000, "ug"),
        ("IM", "IM", "SC"),
        _DELTOID,
        "J3420",
    ),
    "dexamethasone-4mg": _drug(
        "dexamethasone sodium phosphate 4 mg/mL injection",
        "63323-165-01",
        _DEXAMETHASONE,
        (4, "mg"),
        ("IM", "IVPUSH"),
        _GLUTE + _DELTOID,
        "J1100",
    ),
    "dexamethasone-10mg": _drug(
        "dexamethasone sodium phosphate 10 mg/mL injection",
        "63323-506-01",
        _DEXAMETHASONE,
        (10, "mg"),
        ("IM",),
        _GLUTE,
        "J1100",
    ),
    "testosterone-200mg": _drug(
        "testosterone cypionate 200 mg/mL injection",
        "0009-0347-02",
        ("10379", "testosterone"),
        (200, "mg"),
        ("IM",),
        _GLUTE,
        "J1071",
    ),
    "medroxyprogesterone-150mg": _drug(
        "medroxyprogesterone acetate 150 mg/mL injectable suspension",
        "0009-0746-30",
        ("6691", "medroxyprogesterone"),
        (150, "mg"),
        ("IM",),
        _DELTOID + _GLUTE,
        "J1050",
    ),
    "methylprednisolone-40mg": _drug(
        "methylprednisolone acetate 40 mg/mL injectable suspension",
        "0009-3073-01",
        _METHYLPRED,
        (40, "mg"),
        ("IM",),
        _GLUTE,
        "J1030",
    ),
    "methylprednisolone-80mg": _drug(
        "methylprednisolone acetate 80 mg/mL injectable suspension",
        "0009-3475-01",
        _METHYLPRED,
        (80, "mg"),
        ("IM",),
        _GLUTE,
        "J1040",
    ),
    "triamcinolone-40mg": _drug(
        "triamcinolone acetonide 40 mg/mL injectable suspension",
        "0003-0293-05",
        ("10759", "triamcinolone"),
        (40, "mg"),
        ("IM",),
        _GLUTE,
        "J3301",
    ),
    "epinephrine-0.3mg": _drug(
        "epinephrine 0.3 mg auto-injector",
        "49502-500-02",
        ("3992", "epinephrine"),
        (0.3, "mg"),
        ("IM",),
        ("LVL", "RVL"),
        "J0171",
    ),
    "promethazine-25mg": _drug(
        "promethazine hydrochloride 25 mg/mL injection",
        "0641-6082-25",
        ("8745", "promethazine"),
        (25, "mg"),
        ("IM", "IM", "IVPUSH"),
        _GLUTE,
        "J2550",
    ),
    "insulin-regular": _drug(
        "insulin regular human 100 units/mL injection (vial)",
        "0002-8215-01",
        ("253182", "insulin regular, human"),
        (10, "[iU]"),
        ("SC",),
        ("LA", "RA"),
        "J1815",
    ),
    "influenza-vaccine-141": _drug(
        "influenza virus vaccine, 0.5 mL prefilled syringe",
        "49281-421-88",
        ("798297", "influenza virus vaccine"),
        (0.5, "mL"),
        ("IM",),
        _DELTOID,
        None,
        cvx=("141", "Influenza, seasonal, injectable"),
    ),
    "influenza-vaccine-150": _drug(
        "influenza vaccine quadrivalent, preservative free, 0.5 mL prefilled syringe",
        "19515-901-52",
        ("798297", "influenza virus vaccine"),
        (0.5, "mL"),
        ("IM",),
        _DELTOID,
        None,
        cvx=("150", "Influenza, injectable, quadrivalent, preservative free"),
    ),
}


@dataclass(frozen=True)
class Problem:
    """A reason for a visit: its ICD-10-CM code and the drugs given for it."""

    icd10: str
    display: str
    drugs: tuple[str, ...]


PROBLEMS: Final[tuple[Problem, ...]] = (
    Problem("N39.0", "Urinary tract infection, site not specified", ("ceftriaxone-1g",)),
    Problem("J02.0", "Streptococcal pharyngitis", ("ceftriaxone-500mg", "dexamethasone-10mg")),
    Problem("J06.9", "Acute upper respiratory infection, unspecified", ("dexamethasone-10mg",)),
    Problem(
        "D51.0",
        "Vitamin B12 deficiency anemia due to intrinsic factor deficiency",
        ("cyanocobalamin-1000mcg",),
    ),
    Problem(
        "M54.50",
        "Low back pain, unspecified",
        ("ketorolac-60mg", "methylprednisolone-80mg", "triamcinolone-40mg"),
    ),
    Problem(
        "G43.909",
        "Migraine, unspecified, not intractable, without status migrainosus",
        ("ketorolac-30mg", "promethazine-25mg", "dexamethasone-4mg"),
    ),
    Problem("R11.2", "Nausea with vomiting, unspecified", ("promethazine-25mg",)),
    Problem("E29.1", "Testicular hypofunction", ("testosterone-200mg",)),
    Problem(
        "Z30.42",
        "Encounter for surveillance of injectable contraceptive",
        ("medroxyprogesterone-150mg",),
    ),
    Problem(
        "T78.40XA",
        "Allergy, unspecified, initial encounter",
        ("epinephrine-0.3mg", "methylprednisolone-40mg", "dexamethasone-4mg"),
    ),
    Problem("E11.9", "Type 2 diabetes mellitus without complications", ("insulin-regular",)),
    Problem(
        "Z23",
        "Encounter for immunization",
        ("influenza-vaccine-141", "influenza-vaccine-150"),
    ),
    Problem(
        "J45.901", "Unspecified asthma with (acute) exacerbation", ("methylprednisolone-40mg",)
    ),
    Problem("L30.9", "Dermatitis, unspecified", ("triamcinolone-40mg",)),
)
OTHER_CONDITIONS: Final = (
    ("I10", "Essential (primary) hypertension"),
    ("E78.5", "Hyperlipidemia, unspecified"),
    ("F41.9", "Anxiety disorder, unspecified"),
    ("K21.9", "Gastro-esophageal reflux disease without esophagitis"),
    ("E66.9", "Obesity, unspecified"),
)
ENCOUNTER_CLASSES: Final = (
    ("AMB", "ambulatory", 80),
    ("EMER", "emergency", 8),
    ("IMP", "inpatient encounter", 6),
    ("VR", "virtual", 6),
)
LOCATIONS: Final = {
    "AMB": ("Family Medicine Clinic, Room 3", "Internal Medicine Clinic, Injection Room"),
    "EMER": ("Emergency Department, Bay 7", "Emergency Department, Fast Track"),
    "IMP": ("Medical Ward 4 West, Room 412", "Surgical Ward 5 East, Room 518"),
    "VR": ("Telehealth", "Virtual Care"),
}
PAYERS: Final = (
    ("1", "MEDICARE", "Medicare Part B", 35),
    ("2", "MEDICAID", "State Medicaid", 20),
    ("5", "PRIVATE HEALTH INSURANCE", "Acme Health Plan", 30),
    ("6", "BLUE CROSS/BLUE SHIELD", "Blue Cross Blue Shield", 15),
)
EM_CODES: Final = (
    ("99211", "Office or other outpatient visit, established patient, minimal", 10),
    ("99212", "Office or other outpatient visit, established patient, straightforward", 20),
    ("99213", "Office or other outpatient visit, established patient, low MDM", 40),
    ("99214", "Office or other outpatient visit, established patient, moderate MDM", 25),
    ("99215", "Office or other outpatient visit, established patient, high MDM", 5),
)
