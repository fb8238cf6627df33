"""Named code constants: code systems, route and site codes, statuses.

Rules never spell a code system or a code inline; they name one of these constants.
Sources for the systems: RULES.md ("Setting, payer and codes the rules read").
"""

from __future__ import annotations

import re
from enum import StrEnum

# --- code systems -------------------------------------------------------------------------
CPT = "http://www.ama-assn.org/go/cpt"
HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
HCPCS_HTTP = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
HCPCS_SYSTEMS = frozenset({HCPCS, HCPCS_HTTP})
NDC = "http://hl7.org/fhir/sid/ndc"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
CVX = "http://hl7.org/fhir/sid/cvx"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
SNOMED = "http://snomed.info/sct"
V3_ROUTE = "http://terminology.hl7.org/CodeSystem/v3-RouteOfAdministration"
V2_BODY_SITE = "http://terminology.hl7.org/CodeSystem/v2-0163"
V3_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PLACE_OF_SERVICE = (
    "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
)
PAYMENT_TYPOLOGY = "urn:oid:2.16.840.1.113883.3.221.5"
EDQM_DOSE_FORM = "http://standardterms.edqm.eu"
UCUM = "http://unitsofmeasure.org"

# Local code systems that carry ICD-10(-CM) codes under their own URI (MIMIC's
# mimic-diagnosis-icd10, EHR-local systems): the code is ICD-10-CM when it has its shape.
LOCAL_ICD10_SYSTEM = re.compile(r"icd-?10(?!-?pcs)", re.IGNORECASE)
ICD10CM_SHAPE = re.compile(r"^[A-TV-Z][0-9][0-9A-Z](?:\.?[0-9A-Z]{1,4})?$")

# Code systems whose codes are identifiers, never drug names.
STANDARD_DRUG_SYSTEMS = frozenset({NDC, RXNORM, CVX, CPT, SNOMED, HCPCS, HCPCS_HTTP})

RULES_TOPIC_SYSTEM = "urn:injection-cds:rules"
OVERRIDE_REASON_SYSTEM = "urn:injection-cds:override-reason"


class RouteKind(StrEnum):
    """How a drug was given, as far as billing is concerned."""

    INTRAMUSCULAR = "IM"
    SUBCUTANEOUS = "SC"
    INTRADERMAL = "ID"
    IV_PUSH = "IVPUSH"
    IV_INFUSION = "IVINF"
    IV_UNSPECIFIED = "IV"
    INTRA_ARTERIAL = "IA"
    OTHER_INJECTION = "INJ"
    NOT_INJECTION = "NONINJ"
    SQ_INFUSION = "SQINF"  # subcutaneous infusion (96369-96371)
    IV_FLUSH = "IVFLUSH"  # a line flush: part of the administration, never billed
    INTRA_ARTICULAR = "IART"  # into a joint or bursa: arthrocentesis 20600-20611, not 96372


INJECTION_ROUTES = frozenset(
    {
        RouteKind.INTRAMUSCULAR,
        RouteKind.SUBCUTANEOUS,
        RouteKind.INTRADERMAL,
        RouteKind.IV_PUSH,
        RouteKind.IV_INFUSION,
        RouteKind.IV_UNSPECIFIED,
        RouteKind.INTRA_ARTERIAL,
        RouteKind.OTHER_INJECTION,
        RouteKind.SQ_INFUSION,
        RouteKind.INTRA_ARTICULAR,
    }
)
SC_IM_ROUTES = frozenset({RouteKind.INTRAMUSCULAR, RouteKind.SUBCUTANEOUS})
IV_ROUTES = frozenset({RouteKind.IV_PUSH, RouteKind.IV_INFUSION, RouteKind.IV_UNSPECIFIED})

# SNOMED CT route of administration (qualifier values) -> kind.
SNOMED_ROUTES: dict[str, RouteKind] = {
    "78421000": RouteKind.INTRAMUSCULAR,
    "34206005": RouteKind.SUBCUTANEOUS,
    "263887005": RouteKind.SUBCUTANEOUS,  # "Subcutaneous (qualifier value)" in the R4 examples
    "372464004": RouteKind.INTRADERMAL,
    "47625008": RouteKind.IV_UNSPECIFIED,
    "255560000": RouteKind.IV_UNSPECIFIED,  # "Intravenous" (the R4 examples' second IV code)
    "58100008": RouteKind.INTRA_ARTERIAL,
    "26643006": RouteKind.NOT_INJECTION,  # oral
    "37161004": RouteKind.NOT_INJECTION,  # rectal
    "6064005": RouteKind.NOT_INJECTION,  # topical
    "46713006": RouteKind.NOT_INJECTION,  # nasal
    "37839007": RouteKind.NOT_INJECTION,  # sublingual
    "45890007": RouteKind.NOT_INJECTION,  # transdermal
    "447694001": RouteKind.NOT_INJECTION,  # respiratory tract
    "54485002": RouteKind.NOT_INJECTION,  # ophthalmic
    "12130007": RouteKind.INTRA_ARTICULAR,  # intra-articular
}

# HL7 v3 RouteOfAdministration -> kind.
V3_ROUTES: dict[str, RouteKind] = {
    "IM": RouteKind.INTRAMUSCULAR,
    "IMINJ": RouteKind.INTRAMUSCULAR,
    "SQ": RouteKind.SUBCUTANEOUS,
    "SQINJ": RouteKind.SUBCUTANEOUS,
    "SUBCUT": RouteKind.SUBCUTANEOUS,
    "IDINJ": RouteKind.INTRADERMAL,
    "ID": RouteKind.INTRADERMAL,
    "IVPUSH": RouteKind.IV_PUSH,
    "IVINJ": RouteKind.IV_PUSH,
    "IVINJBOL": RouteKind.IV_PUSH,
    "IV": RouteKind.IV_INFUSION,
    "IVINFUS": RouteKind.IV_INFUSION,
    "IVC": RouteKind.IV_INFUSION,
    "IVCC": RouteKind.IV_INFUSION,
    "IVCI": RouteKind.IV_INFUSION,
    "IAINJ": RouteKind.INTRA_ARTERIAL,
    "IA": RouteKind.INTRA_ARTERIAL,
    "PO": RouteKind.NOT_INJECTION,
    "SL": RouteKind.NOT_INJECTION,
    "NASAL": RouteKind.NOT_INJECTION,
    "TOPICAL": RouteKind.NOT_INJECTION,
    "RECTAL": RouteKind.NOT_INJECTION,
    "IPINHL": RouteKind.NOT_INJECTION,
    "IVRPUSH": RouteKind.IV_PUSH,
    "IVSPUSH": RouteKind.IV_PUSH,
    "IVASCINJ": RouteKind.IV_PUSH,
    "IVASCINFUS": RouteKind.IV_INFUSION,
    "PCA": RouteKind.IV_INFUSION,
    "IAINJP": RouteKind.INTRA_ARTERIAL,
    "IAINJSP": RouteKind.INTRA_ARTERIAL,
    "IMD": RouteKind.INTRAMUSCULAR,
    "IMZ": RouteKind.INTRAMUSCULAR,
    "SQIMPLNT": RouteKind.SUBCUTANEOUS,  # goserelin implant: 96402 (docs/SOURCES.md §12.5)
    "SQINFUS": RouteKind.SQ_INFUSION,
    "IVFLUSH": RouteKind.IV_FLUSH,
    "IARTINJ": RouteKind.INTRA_ARTICULAR,  # Injection, intraarticular (IAINJ is intraarterial)
    "IBURSINJ": RouteKind.INTRA_ARTICULAR,  # Injection, intrabursal
    "ISYNINJ": RouteKind.INTRA_ARTICULAR,  # Injection, intrasynovial
}

# Every concrete code of the HL7 v3 RouteOfAdministration code system (R4 value set
# v3-RouteOfAdministration, 2018-08-12; docs/SOURCES.md §12.8). A code here is a *coded*
# route (never DOC001) even when billing reads it as "another injection" or "not an
# injection": V3_ROUTES above says how billing reads the ones it cares about.
V3_ROUTE_INJECTION_CODES = frozenset(
    [
        "AMNINJ",
        "BILINJ",
        "BLADINJ",
        "CERVINJ",
        "CHOLINJ",
        "ENDOSININJ",
        "EPI",
        "EPIDURINJ",
        "EPIINJ",
        "EPINJSP",
        "EXTCORPINJ",
        "EXTRAMNINJ",
        "GBINJ",
        "GINGINJ",
        "HEMOPORT",
        "IABDINJ",
        "IARTINJ",
        "IBURSINJ",
        "IC",
        "ICARDINJ",
        "ICARDINJRP",
        "ICARDINJSP",
        "ICARINJP",
        "ICARTINJ",
        "ICAUDINJ",
        "ICAVINJ",
        "ICAVITINJ",
        "ICEREBINJ",
        "ICISTERNINJ",
        "ICOR",
        "ICORONINJ",
        "ICORONINJP",
        "ICORPCAVINJ",
        "IDISCINJ",
        "IDUCTINJ",
        "IDURINJ",
        "IEPIDINJ",
        "IEPITHINJ",
        "ILESINJ",
        "ILUMINJ",
        "ILYMPJINJ",
        "IMEDULINJ",
        "INTERMENINJ",
        "INTERSTITINJ",
        "IOINJ",
        "IOSSC",
        "IOSSINJ",
        "IOVARINJ",
        "IPCARDINJ",
        "IPERINJ",
        "IPINJ",
        "IPLRINJ",
        "IPROSTINJ",
        "IPUMPINJ",
        "ISINJ",
        "ISTERINJ",
        "ISYNINJ",
        "IT",
        "ITENDINJ",
        "ITESTINJ",
        "ITHORINJ",
        "ITINJ",
        "ITUBINJ",
        "ITUMINJ",
        "ITYMPINJ",
        "IUINJ",
        "IUINJC",
        "IURETINJ",
        "IVENTINJ",
        "IVESINJ",
        "IVITINJ",
        "PAINJ",
        "PARENTINJ",
        "PDONTINJ",
        "PDPINJ",
        "PDURINJ",
        "PNINJ",
        "PNSINJ",
        "RBINJ",
        "SCINJ",
        "SLESINJ",
        "SOFTISINJ",
        "SUBARACHINJ",
        "SUBMUCINJ",
        "TRPLACINJ",
        "TRTRACHINJ",
        "URETHINJ",
        "URETINJ",
        "IDIMPLNT",
        "IVITIMPLNT",
    ]
)
V3_ROUTE_OTHER_CODES = frozenset(
    [
        "BLADINSTL",
        "BLADIRR",
        "BLADIRRC",
        "BLADIRRT",
        "BUC",
        "CAPDINSTL",
        "CECINSTL",
        "CERV",
        "CERVINS",
        "CHEW",
        "CTINSTL",
        "DEN",
        "DENRINSE",
        "DISSOLVE",
        "DOUCHE",
        "DRESS",
        "EFT",
        "ELECTOSMOS",
        "ENEMA",
        "ENTINSTL",
        "ETINSTL",
        "ETNEB",
        "EXTCORPDIF",
        "GARGLE",
        "GIN",
        "GJT",
        "GT",
        "GUIRR",
        "HAIR",
        "HEMODIFF",
        "IBRONCHINSTIL",
        "ICORNTA",
        "ICORONTA",
        "IDOUDMAB",
        "IDUODINSTIL",
        "IESOPHINSTIL",
        "IESOPHTA",
        "IGASTINSTIL",
        "IGASTIRR",
        "IGASTLAV",
        "IILEALINJ",
        "IILEALTA",
        "ILESIRR",
        "ILTOP",
        "ILUMTA",
        "INSUF",
        "IOINSTL",
        "IOIRR",
        "IONTO",
        "IOSURGINS",
        "IOTOP",
        "IPPB",
        "ISININSTIL",
        "ITRACHINSTIL",
        "ITRACHMAB",
        "IU",
        "IUINSTL",
        "JJTINSTL",
        "LARYNGINSTIL",
        "LARYNGTA",
        "LPINS",
        "MUC",
        "NAIL",
        "NASALINSTIL",
        "NASINHL",
        "NASINHLC",
        "NASNEB",
        "NASOGASINSTIL",
        "NEB",
        "NGT",
        "NTT",
        "OCDRESTA",
        "OGT",
        "OJJ",
        "OPTHALTA",
        "ORALTA",
        "ORIFINHL",
        "ORMUC",
        "ORNEB",
        "OROPHARTA",
        "ORRINSE",
        "OT",
        "PDONTTA",
        "PDPINSTL",
        "PERIANAL",
        "PERINEAL",
        "PNSINSTL",
        "PR",
        "REBREATH",
        "RECINSTL",
        "RECIRR",
        "RECTINSTL",
        "RETENEMA",
        "SCALP",
        "SHAMPOO",
        "SININSTIL",
        "SKIN",
        "SMUCMAB",
        "SOAK",
        "SOFTISINSTIL",
        "SQSURGINS",
        "SUBCONJTA",
        "SUCK",
        "SWAB",
        "SWISHSPIT",
        "SWISHSWAL",
        "TMUCTA",
        "TRACH",
        "TRACHINSTL",
        "TRNSDERM",
        "TRNSDERMD",
        "TRNSLING",
        "TRTYMPINSTIL",
        "TTYMPTABSORP",
        "URETHINS",
        "URETHINSTL",
        "URETHSUP",
        "VAGINS",
        "VAGINSI",
        "VENT",
        "VENTMASK",
    ]
)

# The SNOMED CT route (qualifier value) a text-only route is coded as when the text says
# exactly one of these (DOC001's suggestion); push or infusion have no SNOMED route of their own.
SNOMED_ROUTE_FOR_KIND: dict[RouteKind, tuple[str, str]] = {
    RouteKind.INTRAMUSCULAR: ("78421000", "Intramuscular route"),
    RouteKind.SUBCUTANEOUS: ("34206005", "Subcutaneous route"),
    RouteKind.INTRADERMAL: ("372464004", "Intradermal route"),
    RouteKind.IV_UNSPECIFIED: ("47625008", "Intravenous route"),
    RouteKind.INTRA_ARTERIAL: ("58100008", "Intra-arterial route"),
}

# Free text as charted (text-only routes, local code systems such as MIMIC's), upper-cased.
TEXT_ROUTES: dict[str, RouteKind] = {
    "IM": RouteKind.INTRAMUSCULAR,
    "INTRAMUSCULAR": RouteKind.INTRAMUSCULAR,
    "INTRAMUSCULARLY": RouteKind.INTRAMUSCULAR,
    "SC": RouteKind.SUBCUTANEOUS,
    "SQ": RouteKind.SUBCUTANEOUS,
    "SUBQ": RouteKind.SUBCUTANEOUS,
    "SUBCUT": RouteKind.SUBCUTANEOUS,
    "SUBCUTANEOUS": RouteKind.SUBCUTANEOUS,
    "SUBCUTANEOUSLY": RouteKind.SUBCUTANEOUS,
    "ID": RouteKind.INTRADERMAL,
    "INTRADERMAL": RouteKind.INTRADERMAL,
    "IV PUSH": RouteKind.IV_PUSH,
    "IVPUSH": RouteKind.IV_PUSH,
    "IV BOLUS": RouteKind.IV_PUSH,
    "IV": RouteKind.IV_UNSPECIFIED,
    "INTRAVENOUS": RouteKind.IV_UNSPECIFIED,
    "IV DRIP": RouteKind.IV_INFUSION,
    "IV INFUSION": RouteKind.IV_INFUSION,
    "IVPCA": RouteKind.IV_INFUSION,
    "IVPB": RouteKind.IV_INFUSION,  # IV piggyback
    "IV PIGGYBACK": RouteKind.IV_INFUSION,
    "IV FLUSH": RouteKind.IV_FLUSH,
    "FLUSH": RouteKind.IV_FLUSH,
    "SQ INFUSION": RouteKind.SQ_INFUSION,
    "SUBCUTANEOUS INFUSION": RouteKind.SQ_INFUSION,
    "INTRA-ARTICULAR": RouteKind.INTRA_ARTICULAR,
    "INTRAARTICULAR": RouteKind.INTRA_ARTICULAR,
    "INTRA ARTICULAR": RouteKind.INTRA_ARTICULAR,
    "INTRA-ARTICULAR ROUTE": RouteKind.INTRA_ARTICULAR,
    "INTRABURSAL": RouteKind.INTRA_ARTICULAR,
    "INTRA-BURSAL": RouteKind.INTRA_ARTICULAR,
    "INTRA-ARTERIAL": RouteKind.INTRA_ARTERIAL,
    "INTRAARTERIAL": RouteKind.INTRA_ARTERIAL,
    "IA": RouteKind.INTRA_ARTERIAL,
    "PO": RouteKind.NOT_INJECTION,
    "ORAL": RouteKind.NOT_INJECTION,
    "BY MOUTH": RouteKind.NOT_INJECTION,
    "PO/NG": RouteKind.NOT_INJECTION,
    "NG": RouteKind.NOT_INJECTION,
    "SL": RouteKind.NOT_INJECTION,
    "IH": RouteKind.NOT_INJECTION,
    "NEB": RouteKind.NOT_INJECTION,
    "TP": RouteKind.NOT_INJECTION,
    "TD": RouteKind.NOT_INJECTION,
    "PR": RouteKind.NOT_INJECTION,
    "NAS": RouteKind.NOT_INJECTION,
    "VG": RouteKind.NOT_INJECTION,
    "TOPICAL": RouteKind.NOT_INJECTION,
    "INHALATION": RouteKind.NOT_INJECTION,
}

# HL7 v2 table 0163 body sites that are injection sites.
V2_INJECTION_SITES = frozenset({"LD", "RD", "LG", "RG", "LVL", "RVL", "LT", "RT", "LA", "RA"})

# --- statuses -----------------------------------------------------------------------------
STATUS_COMPLETED = "completed"
NOT_COMPLETED_STATUSES = frozenset(
    {"not-done", "stopped", "entered-in-error", "in-progress", "on-hold"}
)

# dosage.method values that say the dose was not given although the status is "completed"
# (MIMIC's eMAR charts "Not Given" and "Flushed" events as completed administrations).
NOT_GIVEN_METHOD_WORDS = (
    "not given",
    "not administered",
    "held",
    "refused",
    "omitted",
    "missed",
    "flushed",
)

# Drugs given only into a vein, so no injection site is asked of them when the route is not
# charted (the site belongs to the IV line). Each label's Dosage and Administration says so:
# cisplatin, carboplatin, oxaliplatin and paclitaxel are infusion concentrates to be diluted
# and infused; vincristine's boxed warning "for intravenous use only, fatal if given by other
# routes"; iron sucrose "for intravenous use only" (FDA labels on DailyMed, e.g. cisplatin
# setid 199a6ab3-9b00-49fc-90d4-644d58141235).
IV_ONLY_DRUG_WORDS = (
    "cisplatin",
    "carboplatin",
    "oxaliplatin",
    "paclitaxel",
    "vincristine",
    "iron sucrose",
)
# Words on a product or its dose form that say intravenous only.
IV_ONLY_FORM_WORDS = ("for infusion", "intravenous", "iv piggyback", "premix")

# --- words that mark an injectable product when the route says nothing -----------------------
INJECTABLE_WORDS = (
    "injection",
    "injectable",
    "syringe",
    "pen",
    "vial",
    "auto-injector",
    "autoinjector",
    "prefilled",
    "inj",
)
# EDQM / SNOMED dose forms that are injectable ("solution for injection" and kin).
# An NDC as local systems send it: 11 digits, or hyphenated 4-4-2, 5-3-2, 5-4-1, 5-4-2.
NDC_SHAPE = re.compile(r"^(\d{11}|\d{4}-\d{4}-\d{2}|\d{5}-\d{3}-\d{2}|\d{5}-\d{4}-\d{1,2})$")
# ESRD on dialysis (ICD-10-CM): end-stage renal disease, dependence on renal dialysis. They
# choose the ESRD code of an ESA pair (reference/data/code-choices.csv).
ICD10_ESRD_ON_DIALYSIS = frozenset({"N18.6", "Z99.2"})
# OPPS payment status indicators (CY OPPS Addendum D1) of the drug codes and 96372.
OPPS_STATUS_MEANING = {
    "N": "packaged into the visit's services, no separate payment",
    "K": "separately paid (APC)",
    "K1": "separately paid (APC)",
    "G": "pass-through drug, separately paid",
    "Q1": "conditionally packaged (STV)",
    "L": "vaccine paid at reasonable cost",
    "F": "paid at reasonable cost",
    "A": "paid under a fee schedule, not OPPS",
    "B": "not paid under OPPS on this bill type",
    "E1": "not paid by Medicare",
    "E2": "not paid by Medicare",
    "M": "not paid under OPPS",
}
# NOC drug codes: only when no specific code exists (SOURCES-96372.md §3.4).
HCPCS_NOC_DRUGS = frozenset({"J3490", "J3590", "J9999"})
INJECTABLE_FORM_WORDS = ("inject", "infusion", "parenteral")

# --- Encounter.class (v3 ActCode) -------------------------------------------------------------
CLASS_TO_PLACE_OF_SERVICE: dict[str, str] = {
    "AMB": "11",
    "VR": "02",
    "HH": "12",
    "EMER": "23",
    "IMP": "21",
    "ACUTE": "21",
    "OBSENC": "22",
    # Not in RULES.md's list, but unambiguous facility stays: a hospital short stay is
    # hospital outpatient (22); an inpatient non-acute stay is inpatient (21).
    "SS": "22",
    "NONAC": "21",
}

# Source of Payment Typology leading digit -> payer class.
PAYER_CLASS_MEDICARE = "medicare"
PAYER_CLASS_MEDICAID = "medicaid"
PAYER_CLASS_COMMERCIAL = "commercial"
PAYMENT_TYPOLOGY_PREFIX: dict[str, str] = {
    "1": PAYER_CLASS_MEDICARE,
    "2": PAYER_CLASS_MEDICAID,
    "5": PAYER_CLASS_COMMERCIAL,
    "6": PAYER_CLASS_COMMERCIAL,
}

EM_CODES_OFFICE = frozenset(
    {"99202", "99203", "99204", "99205", "99211", "99212", "99213", "99214", "99215"}
)

# --- billing (issue 3; RULES.md "Billing rules", SOURCES-96372.md §1-§3) ----------------------
CPT_INJECTION_SC_IM = "96372"
CPT_INJECTION_INTRA_ARTERIAL = "96373"
CPT_IV_PUSH_INITIAL = "96374"
CPT_IV_PUSH_ADDITIONAL_NEW_DRUG = "96375"
CPT_IV_PUSH_ADDITIONAL_SAME_DRUG = "96376"  # facility only
CPT_IV_INFUSION_INITIAL = "96365"
CPT_CHEMO_SC_IM_NONHORMONAL = "96401"
CPT_CHEMO_SC_IM_HORMONAL = "96402"
CPT_ALLERGEN_SINGLE = "95115"
CPT_ALLERGEN_MULTIPLE = "95117"
# Tuberculin skin test (Mantoux), intradermal: the test includes the PPD and its placement
# (AAPC Pediatric Coding Alert 2010-09-16; docs/SOURCES.md §9). BIL029.
CPT_TUBERCULIN_SKIN_TEST = "86580"

# Arthrocentesis, aspiration and/or injection of a joint or bursa (CPT 20600-20611; code
# numbers only, the descriptors are AMA's): by joint size, without / with ultrasound guidance
# with permanent recording and reporting (docs/SOURCES.md §14).
JOINT_SMALL = "small"  # fingers, toes
JOINT_INTERMEDIATE = "intermediate"  # wrist, elbow, ankle, TMJ, AC joint, olecranon bursa
JOINT_MAJOR = "major"  # shoulder, hip, knee, subacromial bursa
CPT_ARTHROCENTESIS: dict[str, tuple[str, str]] = {
    JOINT_SMALL: ("20600", "20604"),
    JOINT_INTERMEDIATE: ("20605", "20606"),
    JOINT_MAJOR: ("20610", "20611"),
}
# Words of a charted site -> the joint and its size, the most specific first (a bursa
# before its region; "acromioclavicular" before "shoulder").
JOINT_WORDS: dict[str, str] = {
    "subacromial": JOINT_MAJOR,
    "subdeltoid": JOINT_MAJOR,
    "olecranon": JOINT_INTERMEDIATE,
    "acromioclavicular": JOINT_INTERMEDIATE,
    "temporomandibular": JOINT_INTERMEDIATE,
    "tmj": JOINT_INTERMEDIATE,
    "knee": JOINT_MAJOR,
    "shoulder": JOINT_MAJOR,
    "glenohumeral": JOINT_MAJOR,
    "hip": JOINT_MAJOR,
    "wrist": JOINT_INTERMEDIATE,
    "elbow": JOINT_INTERMEDIATE,
    "ankle": JOINT_INTERMEDIATE,
    "finger": JOINT_SMALL,
    "thumb": JOINT_SMALL,
    "toe": JOINT_SMALL,
    "interphalangeal": JOINT_SMALL,
    "metacarpophalangeal": JOINT_SMALL,
    "metatarsophalangeal": JOINT_SMALL,
}
# SNOMED CT body structures (joint and region concepts) -> the joint (a JOINT_WORDS key).
# A region that holds joints of one size only counts; anything else asks which joint (DOC019).
SNOMED_JOINTS: dict[str, str] = {
    "49076000": "knee",  # knee joint structure
    "72696002": "knee",  # knee region structure
    "16982005": "shoulder",  # shoulder region structure
    "91774008": "shoulder",  # structure of right shoulder region
    "91775009": "shoulder",  # structure of left shoulder region
    "24136001": "hip",  # hip joint structure
    "29836001": "hip",  # hip region structure
    "74670003": "wrist",  # wrist joint structure
    "8205005": "wrist",  # wrist region structure
    "9736006": "wrist",  # structure of right wrist region
    "5951000": "wrist",  # structure of left wrist region
    "16953009": "elbow",  # elbow joint structure
    "127949000": "elbow",  # elbow region structure
    "70258002": "ankle",  # ankle joint structure
    "344001": "ankle",  # ankle region structure
    "53620006": "temporomandibular",  # temporomandibular joint structure
    "85856004": "acromioclavicular",  # acromioclavicular joint structure
    "7569003": "finger",  # finger structure
    "76505004": "thumb",  # thumb structure
    "29707007": "toe",  # toe structure
}
# Laterality of a joint injection -> modifier: RT/LT on one side, 50 on both (one line,
# Medicare's bilateral indicator 1) or one RT and one LT line, per PayerProfile.bilateral
# (docs/SOURCES.md §14). Small joints (fingers, toes) take digit modifiers, not RT/LT.
MODIFIER_RIGHT = "RT"
MODIFIER_LEFT = "LT"
MODIFIER_BILATERAL = "50"
BILATERAL_MODIFIER_50 = "50"
BILATERAL_RT_LT = "RT/LT"
BILATERAL_CONVENTIONS = (BILATERAL_MODIFIER_50, BILATERAL_RT_LT)
SNOMED_SIDES: dict[str, str] = {
    "24028007": MODIFIER_RIGHT,  # right (qualifier value)
    "7771000": MODIFIER_LEFT,  # left (qualifier value)
    "51440002": MODIFIER_BILATERAL,  # right and left (qualifier value)
    "91774008": MODIFIER_RIGHT,
    "91775009": MODIFIER_LEFT,
    "9736006": MODIFIER_RIGHT,
    "5951000": MODIFIER_LEFT,
}
SIDE_WORDS: dict[str, str] = {
    "bilateral": MODIFIER_BILATERAL,
    "both": MODIFIER_BILATERAL,
    "right": MODIFIER_RIGHT,
    "rt": MODIFIER_RIGHT,
    "left": MODIFIER_LEFT,
    "lt": MODIFIER_LEFT,
}
# dosage.method words: ultrasound guidance, and its permanent recording and report (without
# the recording the unguided code is billed; NCCI ch.4: no separate 76942/77002 either).
ULTRASOUND_WORDS = ("ultrasound", "sonograph", "us-guided", "us guided")
# Local anaesthetics injected with a joint injection: part of the procedure, no drug line
# (NCCI Policy Manual: anaesthesia by the physician who performs the procedure is included
# in it; Highmark S-31-004: local anaesthetics are not paid beside arthrocentesis).
LOCAL_ANESTHETIC_WORDS = ("lidocaine", "lignocaine", "bupivacaine", "ropivacaine", "mepivacaine")
RECORDING_WORDS = ("recorded", "recording", "image saved", "images saved", "archived", "stored")
TUBERCULIN_WORDS = ("tuberculin", "ppd", "tubersol", "aplisol", "mantoux")
CPT_VACCINE_COUNSEL_FIRST = "90460"
CPT_VACCINE_COUNSEL_ADDITIONAL = "90461"
CPT_VACCINE_INJECTION_FIRST = "90471"
CPT_VACCINE_INJECTION_ADDITIONAL = "90472"
CPT_VACCINE_ORAL_NASAL_FIRST = "90473"
CPT_VACCINE_ORAL_NASAL_ADDITIONAL = "90474"
CPT_COVID_VACCINE_ADMIN = "90480"
HCPCS_FLU_VACCINE_ADMIN = "G0008"
HCPCS_PNEUMOCOCCAL_VACCINE_ADMIN = "G0009"
HCPCS_HEPB_VACCINE_ADMIN = "G0010"
HCPCS_UNCLASSIFIED_DRUG = "J3490"
EM_CODE_NURSE_VISIT = "99211"
# NCCI pairs every E/M with the first vaccine administration code (modifier indicator 1: 25
# on a separately identifiable E/M); Medicare's G0008-G0010 bundle only 99211
# (SOURCES-96372.md §2.2). BIL004.
VACCINE_ADMIN_EM_BUNDLED = frozenset(
    {CPT_VACCINE_COUNSEL_FIRST, CPT_VACCINE_INJECTION_FIRST, CPT_VACCINE_ORAL_NASAL_FIRST}
)
MEDICARE_VACCINE_ADMIN = frozenset(
    {HCPCS_FLU_VACCINE_ADMIN, HCPCS_PNEUMOCOCCAL_VACCINE_ADMIN, HCPCS_HEPB_VACCINE_ADMIN}
)

MODIFIER_DISTINCT = "59"
MODIFIER_SEPARATE_STRUCTURE = "XS"
MODIFIER_REPEAT_SAME_PHYSICIAN = "76"
MODIFIER_SEPARATE_EM = "25"

# BIL012 repeat conventions for a second and later 96372 on one date of service.
REPEAT_MODIFIER_59 = "59"
REPEAT_MODIFIER_XS = "XS"
REPEAT_MODIFIER_76 = "76"
REPEAT_UNITS = "units"  # one line, N units
REPEAT_CONVENTIONS = frozenset(
    {REPEAT_MODIFIER_59, REPEAT_MODIFIER_XS, REPEAT_MODIFIER_76, REPEAT_UNITS}
)

# Which claim a line goes on (RULES.md lines contract, ``claim``): the physician's or
# supplier's CMS-1500/837P, or the facility's UB-04/837I.
CLAIM_PROFESSIONAL = "professional"
CLAIM_INSTITUTIONAL = "institutional"
CLAIM_KINDS = frozenset({CLAIM_PROFESSIONAL, CLAIM_INSTITUTIONAL})

# NDC unit-of-measure qualifiers (837P CTP05-01 / CMS-1500 24A shaded area).
NDC_QUALIFIER = "N4"
NDC_UNIT_EACH = "UN"
NDC_UNIT_ML = "ML"
NDC_UNIT_GRAM = "GR"
NDC_UNIT_IU = "F2"
NDC_UNIT_MG = "ME"

# HCPCS antineoplastic range (BIL010): J9000-J9999.
ANTINEOPLASTIC_HCPCS_PREFIX = "J9"

# MUE tables (BIL009).
MUE_PRACTITIONER = "practitioner"
MUE_OUTPATIENT_HOSPITAL = "outpatient_hospital"

# Vaccine kinds of the shipped vaccine table (BIL003).
VACCINE_INFLUENZA = "influenza"
VACCINE_PNEUMOCOCCAL = "pneumococcal"
VACCINE_HEPATITIS_B = "hepatitis_b"
VACCINE_COVID19 = "covid19"
VACCINE_OTHER = "other"

# ChargeItem modifier extension (chargeitems.py; documented in docs/reference-data.md).
CHARGEITEM_MODIFIER_EXTENSION = "https://injection-cds.org/fhir/StructureDefinition/claim-modifier"
CHARGEITEM_NDC_EXTENSION = "https://injection-cds.org/fhir/StructureDefinition/ndc-quantity"

# --- discarded drug (JW/JZ), Pub 100-04 ch.17 §40; docs/charting-billing.md -----------------
MODIFIER_DISCARDED = "JW"  # the discarded amount from a single-dose container
MODIFIER_NOTHING_DISCARDED = "JZ"  # a single-dose container with nothing discarded
CONTAINER_SINGLE_DOSE = "single-dose"
CONTAINER_MULTI_DOSE = "multi-dose"
CONTAINER_KINDS = frozenset({CONTAINER_SINGLE_DOSE, CONTAINER_MULTI_DOSE})
# How a chart records the discarded amount (docs/charting-billing.md): an extension on the
# administration, or a separate MedicationAdministration whose category, method or note
# says waste.
DISCARDED_AMOUNT_EXTENSION = "https://injection-cds.org/fhir/StructureDefinition/discarded-amount"
WASTE_WORDS = ("waste", "wasted", "discard", "discarded")
# A drug the patient brought (docs/charting-billing.md): an extension, or a note saying so.
PATIENT_SUPPLIED_EXTENSION = "https://injection-cds.org/fhir/StructureDefinition/patient-supplied"
PATIENT_SUPPLIED_WORDS = (
    "patient supplied",
    "patient-supplied",
    "supplied by patient",
    "supplied by the patient",
    "brought by patient",
    "brought by the patient",
    "patient brought",
    "patient's own",
    "patient own supply",
)

# --- where the service was given (Encounter.location → Location.type; docs/charting-billing.md)
SETTING_OFFICE = "office"  # physician office or other non-facility place: professional claim
SETTING_HOSPITAL_OUTPATIENT = "hospital-outpatient"  # provider-based clinic, ED, observation
SETTING_INPATIENT = "inpatient"  # Part A stay: nothing separately billed
SETTING_OTHER_FACILITY = "other-facility"  # ASC, SNF …: the physician does not report 96372
SETTING_TELEHEALTH = "telehealth"
SETTING_AMBIGUOUS = "ambiguous"  # a multi-day "ambulatory" stay: not an office visit
SETTING_UNKNOWN = "unknown"  # no encounter: billed as an office service, as before
# Hospital outpatient places of service: 19/22 on-/off-campus provider-based department,
# 23 emergency department. Observation is class OBSENC (POS 22).
HOSPITAL_OUTPATIENT_POS = frozenset({"19", "22", "23"})
# HL7 v3 ServiceDeliveryLocationRoleType codes a Location.type may carry.
V3_ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
LOCATION_ROLE_TO_POS: dict[str, str] = {
    "ER": "23",  # emergency room
    "ETU": "23",  # emergency trauma unit
    "PROFF": "11",  # provider's office
}
CPT_HOSPITAL_CLINIC_VISIT = "G0463"  # HCPCS: hospital outpatient clinic visit (OPPS)
# OPPS payment status indicators (Addendum B): packaged drugs are N, separately paid K/G.
OPPS_PACKAGED = frozenset({"N"})
OPPS_SEPARATELY_PAID = frozenset({"K", "K1", "G"})
# The services' own status indicators when the drug quarter does not carry them: OPPS
# Addendum B, CY 2025 October update (shared/data/cms/addendum-b-2025q4.csv).
OPPS_SERVICE_STATUS: dict[str, str] = {"96372": "Q1", "G0463": "J2"}

# --- erythropoiesis-stimulating agents (NCD 110.21) -----------------------------------------
MODIFIER_ESA_CHEMOTHERAPY = "EA"  # anaemia from anti-cancer chemotherapy
MODIFIER_ESA_RADIOTHERAPY = "EB"  # anaemia from anti-cancer radiotherapy
MODIFIER_ESA_OTHER = "EC"  # anaemia from neither
ESA_NON_ESRD_CODES: dict[str, str] = {"J0885": "epoetin alfa", "J0881": "darbepoetin alfa"}
ESA_ESRD_CODES: dict[str, str] = {"Q4081": "epoetin alfa", "J0882": "darbepoetin alfa"}
ESA_ESRD_TO_NON_ESRD: dict[str, str] = {"Q4081": "J0885", "J0882": "J0881"}
ESA_NON_ESRD_TO_ESRD: dict[str, str] = {v: k for k, v in ESA_ESRD_TO_NON_ESRD.items()}
# Dialysis: ESRD (N18.6) or dependence on renal dialysis (Z99.2).
DIALYSIS_DIAGNOSES = ("N18.6", "Z99.2")
# Anaemia from chemotherapy (D64.81, adverse effect T45.1X5-) and from radiotherapy
# (Y84.2 with an anaemia code); NCD 110.21 and the MAC ESA billing articles.
ESA_CHEMOTHERAPY_DIAGNOSES = ("D64.81", "T45.1X5")
ESA_RADIOTHERAPY_DIAGNOSES = ("Y84.2",)

# --- vaccine funding (VFC / state-supplied; docs/vaccines.md) ----------------------------------
VACCINE_FUNDING_EXTENSION = "https://injection-cds.org/fhir/StructureDefinition/vaccine-funding"
FUNDING_STATE_SUPPLIED = "state-supplied"  # VFC or another public programme's stock
FUNDING_PRIVATE = "private"
# Immunization.fundingSource (FHIR immunization-funding-source; CDC NIP008 codes) and
# Immunization.programEligibility (FHIR immunization-program-eligibility; HL7 v2 table 0064).
STATE_SUPPLIED_FUNDING_CODES = frozenset({"public", "VXC50", "VXC51", "VXC52"})
PRIVATE_FUNDING_CODES = frozenset({"private", "PHC70"})
VFC_ELIGIBILITY_CODES = frozenset({"V02", "V03", "V04", "V05", "uninsured"})
STATE_SUPPLIED_PRODUCT = ("SL", "zero", "omit")  # PayerProfile.state_supplied_product
MODIFIER_STATE_SUPPLIED = "SL"

# --- infusions and chemotherapy administration (issue 11; docs/SOURCES.md §12) --------------
CPT_HYDRATION_INITIAL = "96360"
CPT_HYDRATION_ADDITIONAL_HOUR = "96361"
CPT_IV_INFUSION_ADDITIONAL_HOUR = "96366"
CPT_IV_INFUSION_SEQUENTIAL = "96367"
CPT_IV_INFUSION_CONCURRENT = "96368"
CPT_SQ_INFUSION_INITIAL = "96369"
CPT_SQ_INFUSION_ADDITIONAL_HOUR = "96370"
CPT_SQ_INFUSION_ADDITIONAL_SITE = "96371"
CPT_CHEMO_PUSH_INITIAL = "96409"
CPT_CHEMO_PUSH_ADDITIONAL = "96411"
CPT_CHEMO_INFUSION_INITIAL = "96413"
CPT_CHEMO_INFUSION_ADDITIONAL_HOUR = "96415"
CPT_CHEMO_INFUSION_SEQUENTIAL = "96417"

# CPT time rules (CPT "Hydration, therapeutic, prophylactic, diagnostic injections and
# infusions, and chemotherapy" guidelines): an infusion of 15 minutes or less is a push;
# hydration of 30 minutes or less is not reported; an add-on hour needs more than 30 minutes
# beyond the last full hour.
PUSH_MAX_MINUTES = 15
HYDRATION_MIN_MINUTES = 31
ADD_ON_HOUR_THRESHOLD_MINUTES = 31

# Hydration fluids (prepackaged fluid and electrolytes) and what marks a flush or diluent.
HYDRATION_FLUID_WORDS = (
    "sodium chloride 0.9",
    "0.9% sodium chloride",
    "normal saline",
    "lactated ringer",
    "ringers lactate",
    "ringer's lactate",
    "dextrose 5% in water",
    "d5w",
    "dextrose 5%",
)
# Parenteral nutrition (amino acids, dextrose with amino acids, lipid emulsions; the brands a
# pharmacy charts): not a drug nor a hydration fluid. Medicare covers it as a prosthetic
# device (NCD 180.2; HCPCS B4164-B5200, billed by the supplier), so an electrolyte named
# among its ingredients ("sodium chloride") must not make it saline J7030.
PARENTERAL_NUTRITION_WORDS = (
    "parenteral nutrition",
    "tpn",
    "ppn",
    "amino acid",
    "amino acids",
    "lipid emulsion",
    "lipid injectable emulsion",
    "fat emulsion",
    "clinimix",
    "kabiven",
    "perikabiven",
    "intralipid",
    "smoflipid",
    "omegaven",
    "clinolipid",
    "nutrilipid",
    "travasol",
    "trophamine",
    "aminosyn",
    "prosol",
    "premasol",
    "plenamine",
    "clinisol",
    "freamine",
    "procalamine",
)
FLUSH_WORDS = ("flush", "lock flush", "hep-lock", "heplock")
DILUENT_WORDS = ("diluent", "reconstitut", "sterile water", "bacteriostatic")
DILUENT_DRUG_WORDS = ("lidocaine", "sterile water", "bacteriostatic", "sodium chloride")

# Medicare Part B vaccines (Pub 100-02 ch.15 §50.4.4.2; Pub 100-04 ch.18 §10).
VACCINE_TETANUS = "tetanus"
VACCINE_RABIES = "rabies"
VACCINE_ZOSTER = "zoster"
VACCINE_RSV = "rsv"
MEDICARE_PART_B_VACCINES = frozenset(
    {VACCINE_INFLUENZA, VACCINE_PNEUMOCOCCAL, VACCINE_HEPATITIS_B, VACCINE_COVID19}
)
# ICD-10-CM codes that say injury or exposure (a vaccine "directly related to the treatment
# of an injury or direct exposure to a disease": Part B): chapter 19 (S00-T88), external
# causes (V00-Y99), and contact with / exposure to communicable diseases (Z20).
INJURY_EXPOSURE_PREFIXES = ("S", "T", "V", "W", "X", "Y", "Z20")
PEDIATRIC_COUNSELLING_MAX_AGE = 18  # 90460/90461: "through 18 years of age"
