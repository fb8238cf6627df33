"""The billing plan: every claim line of a visit, computed once per call. No I/O.

A named pipeline stage between facts and rules (facts → plan → rules → cards): the billing
rules read their lines from it and the card builder turns the same lines into the
``org.injectioncds.lines`` extension and the ChargeItem suggestions, so nothing is computed
twice and the card can never disagree with the rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from injection_cds.core.billing.allergen import allergen_lines
from injection_cds.core.billing.chemotherapy import (
    UncodableChemo,
    antineoplastic_lines,
    uncodable_chemotherapy,
)
from injection_cds.core.billing.claim_pass import DrugLineOutcomes, settle
from injection_cds.core.billing.classify import is_flush_or_diluent, sc_im_injections
from injection_cds.core.billing.esa import EsaDecision
from injection_cds.core.billing.estimate import Estimate, estimate
from injection_cds.core.billing.injections import injection_lines
from injection_cds.core.billing.intravenous import IvPlan, iv_plan
from injection_cds.core.billing.joints import joint_lines
from injection_cds.core.billing.lines import ChargeLine
from injection_cds.core.billing.setting import care_setting
from injection_cds.core.billing.skin_tests import skin_test_lines
from injection_cds.core.billing.stops import Stop, critical_stop
from injection_cds.core.billing.vaccines import VaccinePlan, vaccine_plan
from injection_cds.core.billing.waste import PendingDiscard
from injection_cds.core.codes import (
    CLAIM_INSTITUTIONAL,
    SETTING_AMBIGUOUS,
    SETTING_HOSPITAL_OUTPATIENT,
    SETTING_INPATIENT,
    SETTING_OFFICE,
    SETTING_OTHER_FACILITY,
    SETTING_TELEHEALTH,
)
from injection_cds.core.context import RuleContext
from injection_cds.core.facts import Administration, VisitFacts


@dataclass(frozen=True)
class BillingPlan:
    """The lines of each billing family for one visit (empty tuples where none apply)."""

    injections: tuple[Administration, ...] = ()  # SC/IM administrations billed with 96372
    injection_lines: tuple[ChargeLine, ...] = ()  # BIL001: 96372 lines, then drug lines
    iv: IvPlan = IvPlan()  # BIL002 (and BIL021: hydration not billed)
    vaccine: VaccinePlan = VaccinePlan()  # BIL003, BIL018-BIL020, DOC017
    antineoplastic_lines: tuple[ChargeLine, ...] = ()  # BIL010
    uncodable_chemo: tuple[UncodableChemo, ...] = ()  # BIL022
    flushes: tuple[Administration, ...] = ()  # BIL017: flushes and diluents, not billed
    allergen_lines: tuple[ChargeLine, ...] = ()  # BIL013
    skin_test_lines: tuple[ChargeLine, ...] = ()  # BIL029
    joint_lines: tuple[ChargeLine, ...] = ()  # BIL030: 20600-20611, then the drug lines
    injection_estimate: Estimate | None = None  # BIL001's estimate, from a fee schedule
    setting: str = SETTING_OFFICE  # codes.SETTING_*: which claim, if any (BIL025, BIL026)
    stops: tuple[Stop, ...] = ()  # BIL027: administrations held back by a critical stop
    discards: tuple[tuple[Administration, tuple[str, ...]], ...] = ()  # BIL023: JW/JZ added
    pending_discards: tuple[PendingDiscard, ...] = ()  # DOC018
    esa: tuple[EsaDecision, ...] = ()  # BIL028
    patient_supplied: tuple[Administration, ...] = ()  # BIL024: administration only

    @property
    def iv_lines(self) -> tuple[ChargeLine, ...]:
        """BIL002's lines."""
        return self.iv.lines

    @property
    def vaccines(self) -> tuple[Administration, ...]:
        """The vaccine administrations of the visit."""
        return tuple(d.administration for d in self.vaccine.doses)

    @property
    def vaccine_lines(self) -> tuple[ChargeLine, ...]:
        """BIL003's lines."""
        return self.vaccine.lines

    @property
    def all_lines(self) -> tuple[ChargeLine, ...]:
        """Every line of the visit, family by family (what MUEs count)."""
        return (
            self.injection_lines
            + self.iv_lines
            + self.vaccine_lines
            + self.antineoplastic_lines
            + tuple(line for u in self.uncodable_chemo for line in u.drug_lines)
            + self.allergen_lines
            + self.skin_test_lines
            + self.joint_lines
        )


EMPTY_PLAN = BillingPlan()

# Settings where the infusion, chemotherapy and vaccine lines are billed by no one as charted
# (inpatient: the Part A stay; another facility bills its own services), as for 96372.
_NO_LINES = frozenset({SETTING_INPATIENT, SETTING_OTHER_FACILITY})


# Settings where no family bills anything from the chart as it stands.
_NOTHING_BILLED = frozenset({SETTING_AMBIGUOUS, SETTING_TELEHEALTH})


def on_claim(lines: Iterable[ChargeLine], setting: str) -> tuple[ChargeLine, ...]:
    """The lines on the claim the setting calls for: none, the hospital's, or the physician's.

    Hospital outpatient (provider-based clinic, ED, observation): the hospital reports the
    drug administration, infusion and vaccine codes on its institutional claim (Pub 100-04
    ch.4 §230.2); the physician does not.
    """
    if setting in _NO_LINES:
        return ()
    if setting == SETTING_HOSPITAL_OUTPATIENT:
        return tuple(replace(line, claim=CLAIM_INSTITUTIONAL) for line in lines)
    return tuple(lines)


def plan_billing(visit: VisitFacts, ctx: RuleContext) -> BillingPlan:
    """The visit's billing plan (the stage between facts and rules).

    Administrations with an open critical stop (BIL027) are left out of every family; an
    ambiguous setting (BIL026) bills nothing until the chart says where it was, and a
    telehealth encounter (BIL006) nothing at all: what was given was given in person.
    """
    setting = care_setting(visit, ctx)
    stops = tuple(s for s in (critical_stop(a) for a in visit.administrations) if s is not None)
    if stops:
        held = {s.administration.reference for s in stops}
        visit = replace(
            visit,
            administrations=tuple(a for a in visit.administrations if a.reference not in held),
        )
    if setting in _NOTHING_BILLED:
        return BillingPlan(setting=setting, stops=stops)
    injections = sc_im_injections(visit, ctx)
    iv, vaccine = iv_plan(visit, ctx), vaccine_plan(visit, ctx)
    outcomes = DrugLineOutcomes()
    lines = injection_lines(injections, visit, ctx, setting, outcomes)

    def settled(family: Iterable[ChargeLine]) -> tuple[ChargeLine, ...]:
        """The family on the setting's claim, its drug lines through ESA and JW/JZ rules."""
        return tuple(settle(on_claim(family, setting), visit, ctx, setting, outcomes))

    iv = replace(iv, lines=settled(iv.lines))
    chemo = settled(antineoplastic_lines(visit, ctx))
    joints = settled(joint_lines(visit, ctx))
    uncodable = tuple(
        replace(item, drug_lines=settled(item.drug_lines))
        for item in uncodable_chemotherapy(visit, ctx)
    )
    return BillingPlan(
        setting=setting,
        stops=stops,
        discards=tuple(outcomes.discards),
        pending_discards=tuple(outcomes.pending),
        esa=tuple(outcomes.esa),
        patient_supplied=tuple(outcomes.patient_supplied),
        injections=tuple(injections),
        injection_lines=tuple(lines),
        iv=iv,
        vaccine=replace(vaccine, lines=on_claim(vaccine.lines, setting)),
        antineoplastic_lines=chemo,
        uncodable_chemo=uncodable,
        flushes=tuple(
            a
            for a in visit.administrations
            if a.completed and a.drug is not None and is_flush_or_diluent(a, visit)
        ),
        allergen_lines=tuple(allergen_lines(visit, ctx)),
        skin_test_lines=on_claim(skin_test_lines(visit), setting),
        joint_lines=joints,
        injection_estimate=estimate(lines, visit, ctx) if lines else None,
    )
