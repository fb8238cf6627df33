"""IV push, IV infusion, hydration, SC infusion, chemotherapy IV and intra-arterial codes.

BIL002. One hierarchy for the encounter (CPT drug administration guidelines; Pub 100-04
ch.12 §30.5 and ch.4 §230.2): each IV service is a family (chemotherapy > therapeutic >
hydration) and a mode (infusion > push), read from ``effectivePeriod`` (15 minutes or less
is a push) or from the route when no times are charted. The initial code goes to the
service highest in the hierarchy; every other service takes its add-on code. Hours beyond
the first count when more than 30 minutes. No I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from injection_cds.core import codes
from injection_cds.core.billing.admin_line import admin_line, named_entry, with_note
from injection_cds.core.billing.classify import (
    complex_kind,
    entry_for,
    excluded_from_drug_administration,
    given,
    is_allergen,
    is_facility,
    is_flush_or_diluent,
    is_hydration_fluid,
    is_parenteral_nutrition,
    is_self_administered,
    linked_procedures,
)
from injection_cds.core.billing.drug_lines import drug_line
from injection_cds.core.billing.lines import ChargeLine
from injection_cds.core.codes import RouteKind
from injection_cds.core.context import RuleContext
from injection_cds.core.facts import Administration, VisitFacts
from injection_cds.reference.catalog import is_vaccine

CHEMO, THERAPEUTIC, HYDRATION = "chemotherapy", "therapeutic", "hydration"
PUSH, INFUSION = "push", "infusion"
_RANK = {
    (CHEMO, INFUSION): 0,
    (CHEMO, PUSH): 1,
    (THERAPEUTIC, INFUSION): 2,
    (THERAPEUTIC, PUSH): 3,
    (HYDRATION, INFUSION): 4,
    (HYDRATION, PUSH): 5,
}
_IV_KINDS = frozenset({RouteKind.IV_PUSH, RouteKind.IV_INFUSION, RouteKind.IV_UNSPECIFIED})


@dataclass(frozen=True)
class IvService:
    """One IV administration as billing sees it."""

    administration: Administration
    family: str  # CHEMO | THERAPEUTIC | HYDRATION
    mode: str | None  # PUSH | INFUSION | None (route "IV" and no times)
    minutes: int | None

    @property
    def rank(self) -> int:
        """Place in the CPT hierarchy (0 = chemotherapy infusion, first)."""
        return _RANK.get((self.family, self.mode or PUSH), 9)


def extra_hours(minutes: int | None) -> int:
    """Add-on hours after the first: each needs more than 30 minutes past the last hour."""
    if minutes is None or minutes < 60 + codes.ADD_ON_HOUR_THRESHOLD_MINUTES:
        return 0
    return (minutes - codes.ADD_ON_HOUR_THRESHOLD_MINUTES) // 60


def _mode(administration: Administration) -> str | None:
    minutes = administration.duration_minutes
    if minutes is not None:
        return PUSH if minutes <= codes.PUSH_MAX_MINUTES else INFUSION
    kind = administration.effective_route_kind
    if kind == RouteKind.IV_PUSH:
        return PUSH
    if kind == RouteKind.IV_INFUSION:
        return INFUSION
    return None


def _billable(administration: Administration, visit: VisitFacts, ctx: RuleContext) -> bool:
    drug = administration.drug
    return not (
        is_vaccine(drug, ctx.catalog)
        or is_allergen(drug, ctx.catalog)
        or is_parenteral_nutrition(drug)
        or is_self_administered(administration, visit, ctx)
        or bool(linked_procedures(administration, visit))
        or is_flush_or_diluent(administration, visit)
    )


def iv_services(visit: VisitFacts, ctx: RuleContext) -> list[IvService]:
    """The encounter's IV services (flushes, diluents and vaccines left out), by start time."""
    services = []
    for administration in visit.administrations:
        if not given(administration) or administration.effective_route_kind not in _IV_KINDS:
            continue
        if not _billable(administration, visit, ctx):
            continue
        if complex_kind(administration, visit, ctx) is not None:
            family = CHEMO
        elif is_hydration_fluid(administration):
            family = HYDRATION
        else:
            family = THERAPEUTIC
        services.append(
            IvService(
                administration, family, _mode(administration), administration.duration_minutes
            )
        )
    services.sort(
        key=lambda s: s.administration.effective.text if s.administration.effective else ""
    )
    return services


def _overlaps(one: Administration, other: Administration) -> bool:
    """Both infusions charted with times, and the times overlap (concurrent)."""
    if one.duration_minutes is None or other.duration_minutes is None:
        return False
    assert one.period_start and one.period_end and other.period_start and other.period_end
    a0, a1 = one.period_start.moment, one.period_end.moment
    b0, b1 = other.period_start.moment, other.period_end.moment
    assert a0 and a1 and b0 and b1
    return a0 < b1 and b0 < a1


def _hours_line(code: str, hours: int, service: IvService, visit: VisitFacts) -> ChargeLine:
    line = admin_line(code, "each additional hour", service.administration, visit)
    return ChargeLine(**{**line.__dict__, "units": hours})


class _Coder:
    """Codes the services in order; remembers what has been reported."""

    def __init__(self, visit: VisitFacts, ctx: RuleContext) -> None:
        self.visit, self.ctx = visit, ctx
        self.facility = is_facility(visit, ctx)
        self.lines: list[ChargeLine] = []
        self.initial: IvService | None = None
        self.pushed: set[str] = set()
        self.concurrent_taken = False
        self.infusions: list[IvService] = []
        self.not_billed: list[tuple[Administration, str]] = []

    def _add(self, code: str, what: str, service: IvService, note: str | None = None) -> None:
        line = admin_line(code, what, service.administration, self.visit)
        self.lines.append(with_note(line, note) if note else line)

    def _hours(self, code: str, service: IvService) -> None:
        hours = extra_hours(service.minutes)
        if hours:
            self.lines.append(_hours_line(code, hours, service, self.visit))

    def _name(self, service: IvService) -> str:
        drug = service.administration.drug
        return (
            entry_for(drug, self.ctx.catalog) or named_entry(service.administration)
        ).name.lower()

    def code(self, service: IvService) -> None:
        if service.mode is None:
            return  # route "IV" only, no times: BIL002 says to chart which
        untimed = (
            "no start/stop time charted: add-on hours cannot be counted"
            if service.mode == INFUSION and service.minutes is None
            else None
        )
        if self.initial is None:
            self._initial(service, untimed)
        else:
            self._subsequent(service, untimed)
        if service.mode == INFUSION:
            self.infusions.append(service)

    def _initial(self, service: IvService, untimed: str | None) -> None:
        family, mode = service.family, service.mode
        if family == HYDRATION:
            if service.minutes is not None and service.minutes < codes.HYDRATION_MIN_MINUTES:
                self.not_billed.append((service.administration, "hydration of 30 minutes or less"))
                return
            self._add(codes.CPT_HYDRATION_INITIAL, "Hydration, initial", service, untimed)
            self._hours(codes.CPT_HYDRATION_ADDITIONAL_HOUR, service)
        elif family == CHEMO and mode == INFUSION:
            self._add(
                codes.CPT_CHEMO_INFUSION_INITIAL, "Chemotherapy infusion, initial", service, untimed
            )
            self._hours(codes.CPT_CHEMO_INFUSION_ADDITIONAL_HOUR, service)
        elif family == CHEMO:
            self._add(codes.CPT_CHEMO_PUSH_INITIAL, "Chemotherapy IV push, initial", service)
        elif mode == INFUSION:
            self._add(codes.CPT_IV_INFUSION_INITIAL, "IV infusion, initial", service, untimed)
            self._hours(codes.CPT_IV_INFUSION_ADDITIONAL_HOUR, service)
        else:
            self._add(codes.CPT_IV_PUSH_INITIAL, "IV push, initial", service)
        self.initial = service
        if mode == PUSH:
            self.pushed.add(self._name(service))

    def _subsequent(self, service: IvService, untimed: str | None) -> None:
        family, mode = service.family, service.mode
        concurrent = mode == INFUSION and any(
            _overlaps(service.administration, other.administration) for other in self.infusions
        )
        if family == HYDRATION:
            if concurrent:
                self.not_billed.append((service.administration, "hydration run concurrently"))
            elif service.minutes is not None and service.minutes < codes.HYDRATION_MIN_MINUTES:
                self.not_billed.append((service.administration, "hydration of 30 minutes or less"))
            else:
                hours = 1 + extra_hours(service.minutes)
                self.lines.append(
                    _hours_line(codes.CPT_HYDRATION_ADDITIONAL_HOUR, hours, service, self.visit)
                )
            return
        if mode == INFUSION and concurrent and family == THERAPEUTIC:
            if not self.concurrent_taken:
                self._add(codes.CPT_IV_INFUSION_CONCURRENT, "IV infusion, concurrent", service)
                self.concurrent_taken = True
            return
        if mode == INFUSION:
            if family == CHEMO:
                self._add(
                    codes.CPT_CHEMO_INFUSION_SEQUENTIAL,
                    "Chemotherapy infusion, sequential",
                    service,
                    untimed,
                )
                self._hours(codes.CPT_CHEMO_INFUSION_ADDITIONAL_HOUR, service)
            else:
                self._add(
                    codes.CPT_IV_INFUSION_SEQUENTIAL, "IV infusion, sequential", service, untimed
                )
                self._hours(codes.CPT_IV_INFUSION_ADDITIONAL_HOUR, service)
            return
        name = self._name(service)
        if name not in self.pushed:
            if family == CHEMO:
                self._add(
                    codes.CPT_CHEMO_PUSH_ADDITIONAL,
                    "Chemotherapy IV push, each additional drug",
                    service,
                )
            else:
                self._add(
                    codes.CPT_IV_PUSH_ADDITIONAL_NEW_DRUG,
                    "IV push, each additional new drug",
                    service,
                )
        elif family != CHEMO and self.facility:
            self._add(
                codes.CPT_IV_PUSH_ADDITIONAL_SAME_DRUG,
                "IV push, additional, same drug (facility)",
                service,
            )
        self.pushed.add(name)


@dataclass(frozen=True)
class IvPlan:
    """BIL002's lines and what was left unbilled, and why."""

    lines: tuple[ChargeLine, ...] = ()
    not_billed: tuple[tuple[Administration, str], ...] = ()
    initial: Administration | None = None


def iv_plan(visit: VisitFacts, ctx: RuleContext) -> IvPlan:
    """BIL002: the initial service by hierarchy, the add-ons, SC infusion, intra-arterial, drugs.

    Professional and facility claims both take the initial service by the CPT hierarchy
    here; a physician whose primary reason for the encounter was another service reports
    that one as initial instead (CPT; Pub 100-04 ch.12 §30.5). +96376 (same drug pushed
    again) is reported on facility claims only.
    """
    services = iv_services(visit, ctx)
    coder = _Coder(visit, ctx)
    known = [s for s in services if s.mode is not None]
    first = min(known, key=lambda s: s.rank) if known else None
    if first is not None:
        coder.code(first)
    for service in services:
        if service is not first:
            coder.code(service)
    if coder.lines and len(known) > 1 and not coder.facility:
        # CPT: the physician's initial code is the primary reason for the encounter.
        coder.lines[0] = with_note(
            coder.lines[0],
            "initial service chosen by the CPT hierarchy; a physician reports the primary "
            "reason for the encounter as initial",
        )
    lines = coder.lines + sq_infusion_lines(visit, ctx)
    others = [
        a
        for a in visit.administrations
        if given(a)
        and a.effective_route_kind == RouteKind.INTRA_ARTERIAL
        and not excluded_from_drug_administration(a, visit, ctx)
    ]
    for arterial in others:
        lines.append(
            admin_line(
                codes.CPT_INJECTION_INTRA_ARTERIAL, "Intra-arterial injection", arterial, visit
            )
        )
    drugs = [s.administration for s in services] + sq_infusions(visit, ctx) + others
    lines.extend(drug_line(a, visit, ctx) for a in drugs if not _untreated(a, coder))
    return IvPlan(
        tuple(lines),
        tuple(coder.not_billed),
        coder.initial.administration if coder.initial else None,
    )


def _untreated(administration: Administration, coder: _Coder) -> bool:
    """Hydration that is not billed carries no fluid line either (packaged)."""
    return any(a is administration for a, _ in coder.not_billed)


def sq_infusions(visit: VisitFacts, ctx: RuleContext) -> list[Administration]:
    """Subcutaneous infusions (route SQINFUS), billable ones, by start time."""
    found = [
        a
        for a in visit.administrations
        if given(a) and a.effective_route_kind == RouteKind.SQ_INFUSION and _billable(a, visit, ctx)
    ]
    return sorted(found, key=lambda a: a.effective.text if a.effective else "")


def sq_infusion_lines(visit: VisitFacts, ctx: RuleContext) -> list[ChargeLine]:
    """96369 for the first SC infusion (+96370 per added hour), +96371 per new site's pump."""
    lines: list[ChargeLine] = []
    for index, administration in enumerate(sq_infusions(visit, ctx)):
        service = IvService(administration, THERAPEUTIC, INFUSION, administration.duration_minutes)
        if index == 0:
            line = admin_line(
                codes.CPT_SQ_INFUSION_INITIAL, "SC infusion, initial", administration, visit
            )
            if administration.duration_minutes is None:
                line = with_note(line, "no start/stop time charted: add-on hours cannot be counted")
            lines.append(line)
            hours = extra_hours(administration.duration_minutes)
            if hours:
                lines.append(
                    _hours_line(codes.CPT_SQ_INFUSION_ADDITIONAL_HOUR, hours, service, visit)
                )
        else:
            lines.append(
                admin_line(
                    codes.CPT_SQ_INFUSION_ADDITIONAL_SITE,
                    "SC infusion, additional pump set-up",
                    administration,
                    visit,
                )
            )
    return lines
