"""FHIR (validated JSON) -> plain frozen facts. No FHIR objects, no I/O past this module.

The rules read only these dataclasses. Everything here tolerates sparse and odd charts:
an element that is absent becomes ``None`` or an empty tuple, never an exception.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from injection_cds.core import codes
from injection_cds.core.codes import RouteKind

Json = Mapping[str, Any]


# --- small value types --------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Coding:
    """One FHIR Coding, reduced to what rules read."""

    system: str | None
    code: str | None
    display: str | None = None


@dataclass(frozen=True, slots=True)
class Concept:
    """A CodeableConcept: its codings and its text."""

    codings: tuple[Coding, ...] = ()
    text: str | None = None

    def codes(self, *systems: str) -> tuple[str, ...]:
        """The codes of the codings in any of ``systems``."""
        return tuple(c.code for c in self.codings if c.code and c.system in systems)

    def first_code(self, *systems: str) -> str | None:
        """The first code in any of ``systems``, or None."""
        found = self.codes(*systems)
        return found[0] if found else None

    def icd10cm_codes(self) -> tuple[str, ...]:
        """ICD-10-CM codes, dotted: in the standard system, or in a local ICD-10 system.

        A code in a local system (``.../mimic-diagnosis-icd10``) counts when it has the
        ICD-10-CM shape; it is returned in the standard dotted form (``E119`` -> ``E11.9``).
        """
        found: list[str] = []
        for c in self.codings:
            if not c.code or not c.system:
                continue
            if c.system == codes.ICD10CM:
                found.append(c.code)
            elif codes.LOCAL_ICD10_SYSTEM.search(c.system) and codes.ICD10CM_SHAPE.match(c.code):
                plain = c.code.replace(".", "")
                found.append(plain if len(plain) <= 3 else f"{plain[:3]}.{plain[3:]}")
        return tuple(found)

    @property
    def is_coded(self) -> bool:
        """Whether any coding carries both a system and a code."""
        return any(c.system and c.code for c in self.codings)

    @property
    def label(self) -> str | None:
        """What a person would call it: the text, else the first display, else a code."""
        if self.text:
            return self.text
        for c in self.codings:
            if c.display:
                return c.display
        for c in self.codings:
            if c.code:
                return c.code
        return None


@dataclass(frozen=True, slots=True)
class Quantity:
    """A FHIR Quantity (dose)."""

    value: Decimal | None
    unit: str | None = None
    code: str | None = None
    system: str | None = None


@dataclass(frozen=True, slots=True)
class Instant:
    """A FHIR dateTime as charted, with what could be parsed of it."""

    text: str
    date: date | None
    moment: datetime | None  # None when only a date (or less) was charted


@dataclass(frozen=True, slots=True)
class Strength:
    """A product's strength (``Medication.ingredient.strength``): amount per presentation.

    ``denominator`` is a volume (30 mg per 1 mL) or a unit of presentation (1 g per vial);
    a denominator with no unit counts as one unit of presentation.
    """

    numerator: Quantity
    denominator: Quantity | None


# --- the drug ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Drug:
    """What was given: the Medication (contained, referenced) or the CodeableConcept."""

    concept: Concept | None  # Medication.code or medicationCodeableConcept
    reference: str | None = None  # medicationReference.reference as charted
    resolved: bool = True  # False: a reference to a Medication that is not there
    form: Concept | None = None
    lot_number: str | None = None
    expiration: Instant | None = None
    ingredients: tuple[Concept, ...] = ()
    strength: Strength | None = None  # of a single-ingredient product
    order: Drug | None = None  # the drug of the linked MedicationRequest, when it differs
    injectable_product: bool = False  # the drug reference says its product is injected

    @property
    def ndcs(self) -> tuple[str, ...]:
        """NDC codes (``http://hl7.org/fhir/sid/ndc``) exactly as charted."""
        return self.concept.codes(codes.NDC) if self.concept else ()

    @property
    def local_ndcs(self) -> tuple[str, ...]:
        """Codes of a local system that have an NDC's shape (MIMIC's ``mimic-medication-ndc``).

        Only the 11-digit and the hyphenated forms count: a plain 10-digit number is not told
        apart from other local numbers.
        """
        if self.concept is None:
            return ()
        return tuple(
            c.code
            for c in self.concept.codings
            if c.code
            and c.system not in codes.STANDARD_DRUG_SYSTEMS
            and codes.NDC_SHAPE.match(c.code)
        )

    @property
    def rxnorm_codes(self) -> tuple[str, ...]:
        """RxNorm codes on the drug and its ingredients."""
        found = list(self.concept.codes(codes.RXNORM)) if self.concept else []
        for ingredient in self.ingredients:
            found.extend(ingredient.codes(codes.RXNORM))
        return tuple(found)

    @property
    def cvx(self) -> str | None:
        """The CVX vaccine code, if any."""
        return self.concept.first_code(codes.CVX) if self.concept else None

    @property
    def hcpcs(self) -> str | None:
        """A HCPCS code charted on the drug itself, if any."""
        return self.concept.first_code(*codes.HCPCS_SYSTEMS) if self.concept else None

    @property
    def cpt_codes(self) -> tuple[str, ...]:
        """CPT codes on the drug (vaccine and toxoid product codes 90476-90759 live there)."""
        return self.concept.codes(codes.CPT) if self.concept else ()

    @property
    def name(self) -> str:
        """The drug as a person would name it (never empty)."""
        if self.concept and self.concept.label:
            return self.concept.label
        for ingredient in self.ingredients:
            if ingredient.label:
                return ingredient.label
        return "unidentified drug"

    @property
    def identified(self) -> bool:
        """Whether anything identifies the drug: a code, a name, a resolvable Medication."""
        if not self.resolved:
            return False
        has_concept = self.concept is not None and (
            self.concept.is_coded or bool(self.concept.text)
        )
        return has_concept or any(i.is_coded or i.text for i in self.ingredients)

    def searchable_text(self) -> str:
        """Lower-cased names and displays of the drug, its form and its ingredients."""
        parts: list[str] = []
        for concept in (self.concept, self.form, *self.ingredients):
            if concept is None:
                continue
            if concept.text:
                parts.append(concept.text)
            parts.extend(c.display for c in concept.codings if c.display)
            # A local system's code can be the drug's name (MIMIC's mimic-medication-name
            # codes "Insulin", "Heparin"); standard systems' codes are numbers, never names.
            parts.extend(
                c.code
                for c in concept.codings
                if c.code and not c.display and c.system not in codes.STANDARD_DRUG_SYSTEMS
            )
        return " ".join(parts).lower()


# --- reasons, performers -------------------------------------------------------------------
ReasonKind = Literal["code", "condition", "procedure", "unresolved"]


@dataclass(frozen=True, slots=True)
class Reason:
    """Why the drug was given: a reasonCode, or a reasonReference and what it resolved to."""

    kind: ReasonKind
    concept: Concept | None = None
    reference: str | None = None

    @property
    def icd10cm(self) -> tuple[str, ...]:
        """ICD-10-CM codes of this reason."""
        return self.concept.icd10cm_codes() if self.concept else ()


@dataclass(frozen=True, slots=True)
class Performer:
    """Who gave it: ``performer.actor`` reference (and whether it is the patient)."""

    reference: str | None
    display: str | None = None

    @property
    def is_patient(self) -> bool:
        """Self-administered: the actor is a Patient."""
        return bool(self.reference and self.reference.startswith("Patient/"))


# --- one administration (or one order, on order-sign) --------------------------------------
AdministrationSource = Literal["administration", "order"]


@dataclass(frozen=True, slots=True)
class Administration:
    """One MedicationAdministration — or, on ``order-sign``, one MedicationRequest."""

    reference: str  # "MedicationAdministration/abc" (or "MedicationRequest/xyz")
    source: AdministrationSource
    status: str | None
    drug: Drug | None  # None: no medication[x] at all
    route: Concept | None
    route_kind: RouteKind | None  # what the route says, read from codes or text
    route_coded: bool  # the route carries a recognised route code
    site: Concept | None
    dose: Quantity | None
    performers: tuple[Performer, ...]
    effective: Instant | None
    request: str | None
    reasons: tuple[Reason, ...]
    encounter: str | None  # "Encounter/123" from context (R4) or encounter (R5)
    part_of: tuple[str, ...] = ()  # partOf references (Procedure/..., MedicationAdministration/...)
    order_route_kind: RouteKind | None = None  # the route on the linked order, when known
    order_route_coded: bool = False
    method: Concept | None = None  # dosage.method
    order_dose: Quantity | None = None  # the linked order's dose, when it has one
    # JW/JZ (docs/charting-billing.md): the discarded amount charted on this administration
    # (an extension), and whether this MedicationAdministration records only a waste.
    discarded: Quantity | None = None
    waste_record: bool = False
    patient_supplied: bool = False  # the patient brought the drug (administration only)
    # effectivePeriod as charted (``effective`` holds its start, or its end when no start)
    period_start: Instant | None = None
    period_end: Instant | None = None
    # vaccines: who paid for the dose (codes.FUNDING_*), from the administration's
    # vaccine-funding extension or the matching Immunization (docs/vaccines.md)
    vaccine_funding: str | None = None

    @property
    def duration_minutes(self) -> int | None:
        """Minutes from effectivePeriod.start to .end; None unless both carry a time."""
        start = self.period_start.moment if self.period_start else None
        end = self.period_end.moment if self.period_end else None
        if start is None or end is None or (start.tzinfo is None) != (end.tzinfo is None):
            return None
        minutes = int((end - start).total_seconds() // 60)
        return minutes if minutes >= 0 else None

    @property
    def not_given_method(self) -> str | None:
        """The dosage.method label when it says the dose was not given ("Not Given", "Flushed")."""
        if self.method is None:
            return None
        words = [self.method.text or ""] + [c.display or c.code or "" for c in self.method.codings]
        for word in words:
            lowered = word.strip().lower()
            if any(lowered.startswith(marker) for marker in codes.NOT_GIVEN_METHOD_WORDS):
                return word.strip()
        return None

    @property
    def drug_name(self) -> str:
        """The drug's name for a card."""
        return self.drug.name if self.drug else "unidentified drug"

    @property
    def when(self) -> str:
        """The administration time for a card: "2026-11-24 10:15" in the charted local time."""
        if self.effective is None:
            return "time not charted"
        if self.effective.moment is not None:
            return self.effective.moment.strftime("%Y-%m-%d %H:%M")
        return self.effective.text

    @property
    def completed(self) -> bool:
        """Status ``completed`` (orders count as completed-to-be)."""
        if self.source == "order":
            return self.status not in codes.NOT_COMPLETED_STATUSES and self.status not in (
                "revoked",
                "cancelled",
                "entered-in-error",
                "stopped",
            )
        return (
            self.status == codes.STATUS_COMPLETED
            and self.not_given_method is None
            and not self.waste_record
        )

    @property
    def effective_dose(self) -> Quantity | None:
        """The dose charted on the administration, else the order's dose."""
        if self.dose is not None and self.dose.value is not None:
            return self.dose
        return self.order_dose or self.dose

    @property
    def effective_route_kind(self) -> RouteKind | None:
        """The route as charted on the administration, else the order's route."""
        return self.route_kind or self.order_route_kind

    @property
    def given_by_injection(self) -> bool:
        """The route — or, when the route is missing or uncoded, the drug — says injection.

        RULES.md: the route says so; or, when the route is missing or uncoded, the drug
        itself says so (an injectable dose form, an injectable word in its name, a J-code).
        The route on the linked order counts as the route when the administration has none.
        """
        kind = self.effective_route_kind
        if kind is not None:
            return kind in codes.INJECTION_ROUTES
        return self.drug is not None and drug_looks_injectable(self.drug)

    @property
    def billable_candidate(self) -> bool:
        """Completed and given by injection: the administrations the DOC rules look at."""
        return self.completed and self.given_by_injection


def drug_looks_injectable(drug: Drug) -> bool:
    """The drug itself says injection: dose form, an injectable word, or a HCPCS J-code.

    Or the drug reference knows its NDC as an injected product (``Drug.injectable_product``).
    """
    if drug.injectable_product or (drug.hcpcs and drug.hcpcs.upper().startswith("J")):
        return True
    if drug.form is not None:
        form_text = " ".join(
            [drug.form.text or ""] + [c.display or "" for c in drug.form.codings]
        ).lower()
        if any(word in form_text for word in codes.INJECTABLE_FORM_WORDS):
            return True
    words = set(re.findall(r"[a-z][a-z-]*", drug.searchable_text()))
    return any(word in words for word in codes.INJECTABLE_WORDS)


# --- encounter, patient, payer -------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class EncounterFacts:
    """The encounter the administrations belong to."""

    reference: str
    class_code: str | None
    place_of_service: str | None  # charted POS code, else derived from the class
    place_of_service_charted: bool
    types: tuple[Concept, ...]
    diagnoses: tuple[Concept, ...]  # Encounter.diagnosis and encounter-diagnosis Conditions
    em_codes: tuple[str, ...]  # CPT E/M codes in Encounter.type or the encounter's ChargeItems
    charge_item_codes: tuple[Coding, ...]  # every code on the encounter's ChargeItems
    # (code, "MedicationAdministration/id") of each ChargeItem already on the encounter for
    # an administration: what has been charged, so it is not suggested again
    charged: frozenset[tuple[str, str]] = frozenset()
    location_label: str | None = None
    service_provider: str | None = None
    start: Instant | None = None
    end: Instant | None = None

    @property
    def days(self) -> int | None:
        """Calendar days the stay spans (0: same day), when both ends are charted."""
        if self.start is None or self.end is None:
            return None
        if self.start.date is None or self.end.date is None:
            return None
        return (self.end.date - self.start.date).days


@dataclass(frozen=True, slots=True)
class PatientFacts:
    """What billing needs of the patient (age for vaccine codes); never a name or id."""

    birth_date: date | None


@dataclass(frozen=True, slots=True)
class PayerFacts:
    """The payer, read from the patient's active Coverage."""

    payer_class: str  # medicare | medicaid | commercial | the configured default
    payer_ids: tuple[str, ...] = ()  # Coverage.payor references / identifiers
    typology_code: str | None = None


@dataclass(frozen=True, slots=True)
class Procedure:
    """A Procedure on the encounter (for BIL014)."""

    reference: str
    concept: Concept | None
    surgical: bool


@dataclass(frozen=True, slots=True)
class VisitFacts:
    """Everything the rules see for one hook call (or one encounter in an audit)."""

    hook: str
    administrations: tuple[Administration, ...]
    encounter: EncounterFacts | None
    patient: PatientFacts | None
    payer: PayerFacts
    procedures: tuple[Procedure, ...] = ()
    counselling_documented: bool = False  # vaccine counselling documented (90460/90461)
    # ICD-10-CM codes of every Condition in the call (problem list, encounter diagnoses):
    # what the patient has, for rules that depend on it (dialysis for ESAs, NCD 110.21)
    conditions: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)


# --- reading helpers -----------------------------------------------------------------------
def coding(raw: Any) -> Coding | None:
    """A Coding from JSON, or None."""
    if not isinstance(raw, Mapping):
        return None
    return Coding(raw.get("system"), raw.get("code"), raw.get("display"))


def concept(raw: Any) -> Concept | None:
    """A CodeableConcept from JSON, or None when absent or empty."""
    if not isinstance(raw, Mapping):
        return None
    codings = tuple(c for c in (coding(x) for x in raw.get("coding") or ()) if c is not None)
    text = raw.get("text") or None
    if not codings and not text:
        return None
    return Concept(codings, text)


# No dose, strength or volume reaches a billion units; a value at or beyond it (1e308, a
# 30-digit number) is a charting or interface error. Read as "no usable value" (the rules
# then say the value is missing), it can never reach billing arithmetic such as
# Decimal.quantize, which fails beyond the context's precision.
_QUANTITY_LIMIT_EXPONENT = 9  # |value| < 10**9


def quantity(raw: Any) -> Quantity | None:
    """A Quantity from JSON, or None; a value out of any sane range counts as absent."""
    if not isinstance(raw, Mapping):
        return None
    value = raw.get("value")
    number: Decimal | None
    try:
        number = Decimal(str(value)) if value is not None else None
    except InvalidOperation:
        number = None
    if number is not None and (
        not number.is_finite() or (number and number.adjusted() >= _QUANTITY_LIMIT_EXPONENT)
    ):
        number = None
    if number is None and not raw.get("unit") and not raw.get("code"):
        return None
    return Quantity(number, raw.get("unit"), raw.get("code"), raw.get("system"))


_PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")


def instant(raw: Any) -> Instant | None:
    """A FHIR date or dateTime, kept as charted and parsed as far as it goes."""
    if not isinstance(raw, str) or not raw:
        return None
    if "T" in raw:
        try:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            return Instant(raw, None, None)
        return Instant(raw, moment.date(), moment)
    match = _PARTIAL_DATE.match(raw)
    if not match:
        return Instant(raw, None, None)
    year, month, day = match.groups()
    if month and day:
        try:
            return Instant(raw, date(int(year), int(month), int(day)), None)
        except ValueError:
            return Instant(raw, None, None)
    return Instant(raw, None, None)


def reference_of(raw: Any) -> str | None:
    """``reference`` of a FHIR Reference, or None."""
    if isinstance(raw, Mapping):
        ref = raw.get("reference")
        return ref if isinstance(ref, str) and ref else None
    return None


def concepts(raw: Iterable[Any] | None) -> tuple[Concept, ...]:
    """Every non-empty CodeableConcept of a list."""
    return tuple(c for c in (concept(x) for x in raw or ()) if c is not None)
