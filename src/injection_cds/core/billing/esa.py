"""Erythropoiesis-stimulating agents (NCD 110.21). No I/O.

Patients not on dialysis: epoetin alfa J0885 (per 1,000 units) or darbepoetin alfa J0881
(per 1 mcg), each line with EA (anaemia from anti-cancer chemotherapy), EB (from
radiotherapy) or EC (neither: chronic kidney disease not on dialysis, …). The ESRD codes —
Q4081 epoetin (per 100 units), J0882 darbepoetin (per 1 mcg) — only for patients on
dialysis (N18.6 end-stage renal disease, Z99.2 dependence on dialysis), where the ESA is
part of the dialysis facility's ESRD PPS bundle. Descriptors: CMS ASP NDC-HCPCS crosswalk
2026Q1 ("HCPCS dosage": J0885 1000 UNITS, Q4081 100 UNITS, J0881/J0882 1 MCG).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from injection_cds.core import codes
from injection_cds.core.billing.classify import diagnoses_of
from injection_cds.core.billing.lines import ChargeLine
from injection_cds.core.facts import Administration, VisitFacts
from injection_cds.core.units import billing_units
from injection_cds.reference.catalog import CatalogEntry

# Descriptor amount and unit per billing unit (CMS ASP crosswalk 2026Q1, "HCPCS dosage").
ESA_DESCRIPTORS: dict[str, tuple[Decimal, str]] = {
    "J0885": (Decimal(1000), "[iU]"),
    "Q4081": (Decimal(100), "[iU]"),
    "J0881": (Decimal(1), "mcg"),
    "J0882": (Decimal(1), "mcg"),
}


@dataclass(frozen=True)
class EsaDecision:
    """What NCD 110.21 changed on one ESA line, for BIL028."""

    administration: Administration
    code: str
    modifier: str | None
    switched_from: str | None
    on_dialysis: bool


def patient_diagnoses(administration: Administration, visit: VisitFacts) -> tuple[str, ...]:
    """Every ICD-10-CM code known for the patient (administration, encounter, Conditions)."""
    found = list(diagnoses_of(administration, visit))
    if visit.encounter is not None:
        for diagnosis in visit.encounter.diagnoses:
            found.extend(diagnosis.icd10cm_codes())
    found.extend(visit.conditions)
    return tuple(dict.fromkeys(found))


def _has(diagnoses: tuple[str, ...], prefixes: tuple[str, ...]) -> bool:
    return any(d.upper().startswith(p.upper()) for d in diagnoses for p in prefixes)


def esa_modifier(diagnoses: tuple[str, ...]) -> str:
    """EA (chemotherapy), EB (radiotherapy) or EC (neither)."""
    if _has(diagnoses, codes.ESA_CHEMOTHERAPY_DIAGNOSES):
        return codes.MODIFIER_ESA_CHEMOTHERAPY
    if _has(diagnoses, codes.ESA_RADIOTHERAPY_DIAGNOSES):
        return codes.MODIFIER_ESA_RADIOTHERAPY
    return codes.MODIFIER_ESA_OTHER


def esa_line(
    line: ChargeLine, administration: Administration, visit: VisitFacts
) -> tuple[ChargeLine, EsaDecision | None]:
    """The ESA line with the code for the dialysis context and, off dialysis, EA/EB/EC."""
    if line.code not in codes.ESA_NON_ESRD_CODES and line.code not in codes.ESA_ESRD_CODES:
        return line, None
    diagnoses = patient_diagnoses(administration, visit)
    on_dialysis = _has(diagnoses, codes.DIALYSIS_DIAGNOSES)
    code = line.code
    if on_dialysis and code in codes.ESA_NON_ESRD_TO_ESRD:
        code = codes.ESA_NON_ESRD_TO_ESRD[code]
    elif not on_dialysis and code in codes.ESA_ESRD_TO_NON_ESRD:
        code = codes.ESA_ESRD_TO_NON_ESRD[code]
    switched_from = line.code if code != line.code else None
    units = line.units
    if switched_from is not None:
        amount, unit = ESA_DESCRIPTORS[code]
        entry = CatalogEntry(name=administration.drug_name, hcpcs=code, amount=amount, unit=unit)
        units = billing_units(administration.dose, entry).units
    modifier = None if on_dialysis else esa_modifier(diagnoses)
    modifiers = (modifier, *line.modifiers) if modifier else line.modifiers
    changed = replace(line, code=code, units=units, modifiers=modifiers)
    return changed, EsaDecision(administration, code, modifier, switched_from, on_dialysis)
