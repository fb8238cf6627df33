"""Which administrations bill how: setting, payer profile, drug kind, exclusions. No I/O."""

from __future__ import annotations

import re
from datetime import date

from injection_cds.core import codes
from injection_cds.core.codes import RouteKind
from injection_cds.core.context import PayerProfile, RuleContext
from injection_cds.core.facts import Administration, Drug, VisitFacts
from injection_cds.core.ndc import normalise_ndc
from injection_cds.reference.catalog import (
    CatalogEntry,
    DrugCatalog,
    drug_ndc11s,
    is_parenteral_nutrition_text,
    is_vaccine,
)
from injection_cds.reference.coding_tables import COMPLEX_DRUG_BIOLOGIC, COMPLEX_DRUG_HORMONAL


def first_ndc11(drug: Drug | None) -> str | None:
    """The first well-formed NDC of the drug in its 11-digit form.

    A local code with an NDC's shape, or the order's Medication, when the drug has no NDC
    coding of its own.
    """
    if drug is None:
        return None
    for raw in drug.ndcs:
        ndc11 = normalise_ndc(raw)
        if ndc11:
            return ndc11
    found = drug_ndc11s(drug)
    return found[0] if found else None


def diagnoses_of(administration: Administration, visit: VisitFacts) -> tuple[str, ...]:
    """ICD-10-CM codes linked to the administration, else the encounter's; de-duplicated."""
    found: list[str] = []
    reasons = [r for r in administration.reasons if r.kind != "procedure"]
    if reasons:
        for reason in reasons:
            found.extend(reason.icd10cm)
    elif visit.encounter is not None:
        for diagnosis in visit.encounter.diagnoses:
            found.extend(diagnosis.icd10cm_codes())
    return tuple(dict.fromkeys(found))


def profile_of(visit: VisitFacts, ctx: RuleContext) -> PayerProfile:
    """The payer profile for the visit's payer."""
    return ctx.settings.profile_for(visit.payer.payer_class, visit.payer.payer_ids)


def entry_for(drug: Drug | None, catalog: DrugCatalog) -> CatalogEntry | None:
    """The catalog entry, identified with the drug's NDC through any loaded crosswalk."""
    return catalog.identify(drug, first_ndc11(drug))


def is_telehealth(visit: VisitFacts, ctx: RuleContext) -> bool:
    """Class VR or a telehealth place of service (02, 10)."""
    encounter = visit.encounter
    if encounter is None:
        return False
    return encounter.class_code == "VR" or (
        encounter.place_of_service in ctx.settings.telehealth_places_of_service
    )


def is_facility(visit: VisitFacts, ctx: RuleContext) -> bool:
    """A facility place of service (RuleSettings.facility_places_of_service)."""
    encounter = visit.encounter
    return encounter is not None and (
        encounter.place_of_service in ctx.settings.facility_places_of_service
    )


def is_inpatient(visit: VisitFacts, ctx: RuleContext) -> bool:
    """An inpatient place of service (RuleSettings.inpatient_places_of_service)."""
    encounter = visit.encounter
    return encounter is not None and (
        encounter.place_of_service in ctx.settings.inpatient_places_of_service
    )


def is_self_administered(
    administration: Administration, visit: VisitFacts, ctx: RuleContext
) -> bool:
    """The patient gave it, or the drug is on the SAD list that applies to the payer."""
    if any(p.is_patient for p in administration.performers):
        return True
    return sad_listing(administration, visit, ctx) is not None


def sad_list_applies(visit: VisitFacts, ctx: RuleContext) -> bool:
    """The MAC's SAD list applies: the payer profile says so, else Medicare only."""
    setting = profile_of(visit, ctx).sad_list
    if setting is not None:
        return setting
    return visit.payer.payer_class == codes.PAYER_CLASS_MEDICARE


def sad_listing(administration: Administration, visit: VisitFacts, ctx: RuleContext) -> str | None:
    """The SAD-list entry (HCPCS code or drug name) that excludes the drug, if any.

    Pub 100-02 ch.15 §50.2: the MAC's list (the shipped default until one is loaded)
    applies to Medicare, or to a payer whose profile says ``sad_list = true``; a payer
    profile's own ``self_administered_drugs`` apply to that payer.
    """
    drug = administration.drug
    if drug is None:
        return None
    entry = entry_for(drug, ctx.catalog)
    hcpcs = (entry.hcpcs if entry else None) or drug.hcpcs
    text = drug.searchable_text()
    if entry is not None:
        text = f"{text} {entry.name.lower()}"
    if sad_list_applies(visit, ctx):
        listed = ctx.sad_list.lists(hcpcs, text)
        if listed is not None:
            return listed
    own = {item.lower() for item in profile_of(visit, ctx).self_administered_drugs if item}
    if hcpcs and hcpcs.lower() in own:
        return hcpcs.upper()
    return next((item for item in sorted(own) if item in text), None)


def status_indicator(code: str, ctx: RuleContext, day: date | None = None) -> str | None:
    """The OPPS status indicator (Addendum B) of a code in the quarter of the date of service."""
    quarter = ctx.catalog.at(day).quarter
    found = quarter.status_indicator(code.upper()) if quarter is not None else None
    return found or codes.OPPS_SERVICE_STATUS.get(code.upper())


def is_antineoplastic(drug: Drug | None, catalog: DrugCatalog) -> bool:
    """HCPCS J9000-J9999, or flagged antineoplastic in the catalog."""
    entry = entry_for(drug, catalog)
    if entry is None:
        return False
    hcpcs = (entry.hcpcs or "").upper()
    return entry.antineoplastic or hcpcs.startswith(codes.ANTINEOPLASTIC_HCPCS_PREFIX)


def is_allergen(drug: Drug | None, catalog: DrugCatalog) -> bool:
    """Allergenic extract (allergen immunotherapy)."""
    entry = entry_for(drug, catalog)
    return entry is not None and entry.allergen


def is_tuberculin_test(drug: Drug | None) -> bool:
    """A tuberculin skin test (PPD, Tubersol, Aplisol; or CPT 86580 charted on the drug)."""
    if drug is None:
        return False
    if codes.CPT_TUBERCULIN_SKIN_TEST in drug.cpt_codes:
        return True
    text = drug.searchable_text()
    return any(re.search(rf"\b{word}\b", text) for word in codes.TUBERCULIN_WORDS)


def is_parenteral_nutrition(drug: Drug | None) -> bool:
    """Parenteral nutrition (TPN, amino acids, lipid emulsion): no drug administration line.

    Medicare covers it under the prosthetic device benefit (NCD 180.2; HCPCS B4164-B5200,
    billed by the supplier), not as hydration (96360) nor a drug infusion (96365) with
    saline J7030 for the electrolytes in the bag.
    """
    return drug is not None and is_parenteral_nutrition_text(drug.searchable_text())


def linked_procedures(administration: Administration, visit: VisitFacts) -> list[str]:
    """Surgical Procedures (or Procedures not in the call) the administration is linked to."""
    known = {p.reference: p for p in visit.procedures}
    linked = [r.reference for r in administration.reasons if r.kind == "procedure"]
    linked += [p for p in administration.part_of if p.startswith("Procedure/")]
    found = []
    for reference in linked:
        if reference is None:
            continue
        key = "/".join(reference.split("/")[-2:])
        procedure = known.get(key)
        if procedure is None or procedure.surgical:
            found.append(key)
    return found


def given(administration: Administration) -> bool:
    """Completed (orders: to be given) and identified."""
    return administration.completed and administration.drug is not None


def is_sc_im(administration: Administration) -> bool:
    """Route SC or IM (as charted, else the order's)."""
    return administration.effective_route_kind in codes.SC_IM_ROUTES


def is_iv_or_ia(administration: Administration) -> bool:
    """IV push, IV infusion, IV unspecified or intra-arterial."""
    kind = administration.effective_route_kind
    return kind in codes.IV_ROUTES or kind == RouteKind.INTRA_ARTERIAL


def excluded_from_drug_administration(
    administration: Administration, visit: VisitFacts, ctx: RuleContext
) -> bool:
    """Billed another way or not at all: vaccine, allergen, skin test, chemo, SAD, flush, TPN."""
    drug = administration.drug
    return (
        is_vaccine(drug, ctx.catalog)
        or is_parenteral_nutrition(drug)
        or is_allergen(drug, ctx.catalog)
        or is_tuberculin_test(drug)
        or complex_kind(administration, visit, ctx) is not None
        or is_self_administered(administration, visit, ctx)
        or bool(linked_procedures(administration, visit))
        or is_flush_or_diluent(administration, visit)
    )


def complex_kind(administration: Administration, visit: VisitFacts, ctx: RuleContext) -> str | None:
    """How chemotherapy administration codes apply: "hormonal", "chemo" or None.

    Antineoplastics (J9000-J9999 or flagged) and the shipped complex drugs (hormonal
    anti-neoplastics, biologics MACs route to 96401-96417); the payer profile may switch the
    biologics off or exclude HCPCS codes (docs/SOURCES.md §12.4-12.7).
    """
    drug = administration.drug
    if drug is None:
        return None
    entry = entry_for(drug, ctx.catalog)
    hcpcs = (entry.hcpcs if entry else None) or drug.hcpcs
    profile = profile_of(visit, ctx)
    if hcpcs and hcpcs.upper() in {c.upper() for c in profile.chemo_excluded_hcpcs}:
        return None
    row = ctx.complex_drugs.find(drug, hcpcs)
    if row is not None and row.kind == COMPLEX_DRUG_HORMONAL:
        return "hormonal"
    if entry is not None and entry.antineoplastic:
        return "hormonal" if entry.hormonal else "chemo"
    if hcpcs and hcpcs.upper().startswith(codes.ANTINEOPLASTIC_HCPCS_PREFIX):
        return "chemo"
    biologic = row is not None and row.kind == COMPLEX_DRUG_BIOLOGIC
    # The biologics' complex-administration routing is for IV infusions; given SC/IM they
    # are ordinary injections (and usually on the self-administered list).
    if biologic and profile.complex_biologics and not is_sc_im(administration):
        return "chemo"
    return None


def _words_in(text: str, words: tuple[str, ...]) -> bool:
    return any(word in text for word in words)


def is_flush_or_diluent(administration: Administration, visit: VisitFacts) -> bool:
    """A line flush or a diluent: part of the administration, never billed on its own.

    Route IVFLUSH; a flush product (heparin lock flush, saline flush); dosage.method saying
    diluent / reconstitution; or lidocaine, sterile water or saline charted ``partOf``
    another administration (mixed in to reconstitute it).
    """
    if administration.effective_route_kind == RouteKind.IV_FLUSH:
        return True
    drug = administration.drug
    text = drug.searchable_text() if drug is not None else ""
    if _words_in(text, codes.FLUSH_WORDS):
        return True
    method = administration.method
    method_text = (
        " ".join([method.text or ""] + [c.display or c.code or "" for c in method.codings]).lower()
        if method is not None
        else ""
    )
    if _words_in(method_text, codes.DILUENT_WORDS + codes.FLUSH_WORDS):
        return True
    mixed_into = [p for p in administration.part_of if p.startswith("MedicationAdministration/")]
    return bool(mixed_into) and _words_in(text, codes.DILUENT_DRUG_WORDS)


def is_hydration_fluid(administration: Administration) -> bool:
    """Plain fluid and electrolytes (saline, lactated Ringer's, D5W) given to hydrate."""
    drug = administration.drug
    return drug is not None and _words_in(drug.searchable_text(), codes.HYDRATION_FLUID_WORDS)


def sc_im_injections(visit: VisitFacts, ctx: RuleContext) -> list[Administration]:
    """The administrations billed with 96372 (before the telehealth check)."""
    return [
        a
        for a in visit.administrations
        if given(a) and is_sc_im(a) and not excluded_from_drug_administration(a, visit, ctx)
    ]


def separate_injections(administrations: list[Administration]) -> list[list[Administration]]:
    """Group administrations into injections: ``partOf`` another one = mixed in its syringe."""
    groups: dict[str, list[Administration]] = {}
    for administration in administrations:
        parent = next(
            (p for p in administration.part_of if p in groups),
            None,
        )
        if parent is not None:
            groups[parent].append(administration)
        else:
            groups[administration.reference] = [administration]
    return list(groups.values())


def date_of_service(administration: Administration) -> str:
    """The administration's date (YYYY-MM-DD), or "undated"."""
    effective = administration.effective
    if effective is not None and effective.date is not None:
        return effective.date.isoformat()
    return "undated"
