"""What rules may read besides the facts: the settings and the drug catalog.

Built once at start-up from the configuration; immutable, shared by every request.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from injection_cds.core import codes
from injection_cds.reference.catalog import DrugCatalog, FeeSchedule, MueTable
from injection_cds.reference.coding_tables import (
    ComplexDrugTable,
    VaccineProductTable,
    shipped_complex_drugs,
    shipped_vaccine_products,
)
from injection_cds.reference.containers import ContainerTable
from injection_cds.reference.self_administered import SadList


@dataclass(frozen=True)
class PayerProfile:
    """Payer-specific billing behaviour (RULES.md BIL012, DOC006, BIL009)."""

    name: str = "default"
    repeat_convention: str = "59"  # "59" | "XS" | "76" | "units"
    ndc_required: bool = False
    mue_table: str | None = None  # "practitioner" | "outpatient_hospital"
    fee_schedule: str | None = None
    # Drug names or HCPCS codes this payer treats as self-administered, on top of the SAD
    # list when it applies (BIL007).
    self_administered_drugs: tuple[str, ...] = ()
    # Whether the MAC's self-administered-drug list applies (Pub 100-02 ch.15 §50.2):
    # None = Medicare only.
    sad_list: bool | None = None
    # Whether the payer wants JW/JZ on single-dose-container drug lines (Pub 100-04 ch.17
    # §40): None = Medicare only.
    discarded_drug_modifiers: bool | None = None
    # NDC unit for a dose by mass when neither package nor strength says: "ME" (mg), "GR" (g),
    # or None: leave the quantity out and say why (the default; no guessed unit).
    ndc_mass_unit: str | None = None
    # Chemotherapy administration (docs/SOURCES.md §12.4-12.7): the shipped biologics take
    # 96401-96417 unless complex_biologics is off; chemo_excluded_hcpcs: codes a payer bills
    # with 96372/96365 instead.
    complex_biologics: bool = True
    chemo_excluded_hcpcs: tuple[str, ...] = ()
    # State-supplied (VFC) vaccine product line: "SL" (modifier SL), "zero" (at $0.00),
    # "omit" (no product line); None: SL for Medicaid, $0.00 otherwise (docs/vaccines.md).
    state_supplied_product: str | None = None
    # A joint injected on both sides (BIL030): "50" (one line, modifier 50: Medicare's
    # bilateral indicator 1) or "RT/LT" (one line per side) (docs/SOURCES.md §14).
    bilateral: str = codes.BILATERAL_MODIFIER_50


@dataclass(frozen=True)
class RuleSettings:
    """Rule behaviour that the configuration may change."""

    default_payer_class: str = codes.PAYER_CLASS_COMMERCIAL
    facility_places_of_service: frozenset[str] = frozenset(
        {"19", "21", "22", "23", "24", "26", "31", "34", "51", "52", "61"}
    )
    # Inpatient stays: drug administration is part of the facility's inpatient (DRG)
    # payment, so no 96372 or drug line is billed separately by anyone.
    inpatient_places_of_service: frozenset[str] = frozenset({"21", "51", "61"})
    telehealth_places_of_service: frozenset[str] = frozenset({"02", "10"})
    profiles: dict[str, PayerProfile] = field(default_factory=dict)
    mue_tables: dict[str, MueTable] = field(default_factory=dict)  # by codes.MUE_* kind
    fee_schedules: dict[str, FeeSchedule] = field(default_factory=dict)  # by schedule name

    def profile_for(self, payer_class: str, payer_ids: tuple[str, ...] = ()) -> PayerProfile:
        """The profile for a payer id, else for its class, else the default profile."""
        for payer_id in payer_ids:
            if payer_id in self.profiles:
                return self.profiles[payer_id]
        if payer_class in self.profiles:
            return self.profiles[payer_class]
        return self.profiles.get("default", PayerProfile())

    def ndc_required(self, payer_class: str, payer_ids: tuple[str, ...] = ()) -> bool:
        """Whether drug lines need the NDC: by law for Medicaid, else as the profile says.

        Medicaid: DRA 2005 §6002 / SSA §1927(a)(7) (SOURCES-96372.md §5), whatever the profile.
        """
        statutory = payer_class == codes.PAYER_CLASS_MEDICAID
        return statutory or self.profile_for(payer_class, payer_ids).ndc_required


@dataclass(frozen=True)
class RuleContext:
    """Everything a rule reads that is not a fact of the visit."""

    settings: RuleSettings = field(default_factory=RuleSettings)
    catalog: DrugCatalog = field(default_factory=DrugCatalog.shipped)
    containers: ContainerTable = field(default_factory=ContainerTable.shipped)
    sad_list: SadList = field(default_factory=SadList.shipped)
    complex_drugs: ComplexDrugTable = field(default_factory=shipped_complex_drugs)
    vaccine_products: VaccineProductTable = field(default_factory=shipped_vaccine_products)
