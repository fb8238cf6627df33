"""Joint and bursa injections: 20600-20611 by joint size, then the drug's line. No I/O.

BIL030 (the lines) and DOC019 (the charted site names no joint this service can size). An
intra-articular or intrabursal injection is an arthrocentesis code, never 96372; the size
comes from the charted body site (SNOMED CT body structure, else its words), the guided code
only when ultrasound guidance *and* its permanent recording are documented; a joint injected
on both sides is one line with modifier 50 or a line per side, as the payer profile says
(docs/SOURCES.md §14).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from injection_cds.core import codes
from injection_cds.core.billing.admin_line import admin_line, with_note
from injection_cds.core.billing.classify import (
    date_of_service,
    diagnoses_of,
    excluded_from_drug_administration,
    given,
    profile_of,
)
from injection_cds.core.billing.drug_lines import drug_line
from injection_cds.core.billing.lines import ChargeLine
from injection_cds.core.codes import RouteKind
from injection_cds.core.context import RuleContext
from injection_cds.core.facts import Administration, Concept, VisitFacts


def _word_patterns(words: dict[str, str]) -> tuple[tuple[re.Pattern[str], str], ...]:
    """A whole-word pattern (plural allowed) per key, in the table's order."""
    return tuple((re.compile(rf"\b{re.escape(word)}s?\b"), word) for word in words)


_JOINT_PATTERNS = _word_patterns(codes.JOINT_WORDS)
_SIDE_PATTERNS = _word_patterns(codes.SIDE_WORDS)
_UNRECORDED_NOTE = (
    "ultrasound guidance charted without its permanent recording and report: the unguided "
    "code (the guidance is not billed separately, NCCI ch.IV)"
)


@dataclass(frozen=True)
class JointInjection:
    """One injection into a joint or bursa and what the chart says of it."""

    administration: Administration
    joint: str | None  # a codes.JOINT_WORDS key; None: the site does not say which joint
    side: str | None  # codes.MODIFIER_RIGHT / _LEFT / _BILATERAL, when the site says
    ultrasound: bool  # ultrasound guidance charted (dosage.method)
    recorded: bool  # its permanent recording and report charted too

    @property
    def size(self) -> str | None:
        """codes.JOINT_SMALL / _INTERMEDIATE / _MAJOR."""
        return codes.JOINT_WORDS[self.joint] if self.joint is not None else None

    @property
    def code(self) -> str:
        """The arthrocentesis code (only for a sized joint)."""
        unguided, guided = codes.CPT_ARTHROCENTESIS[self.size or codes.JOINT_MAJOR]
        return guided if self.recorded else unguided


def _concept_text(concept: Concept | None) -> str:
    if concept is None:
        return ""
    parts = [concept.text or ""] + [c.display or "" for c in concept.codings]
    return " ".join(parts).lower()


def _snomed(concept: Concept, table: dict[str, str]) -> str | None:
    return next(
        (table[c.code] for c in concept.codings if c.system == codes.SNOMED and c.code in table),
        None,
    )


def _first_word(text: str, patterns: tuple[tuple[re.Pattern[str], str], ...]) -> str | None:
    return next((word for pattern, word in patterns if pattern.search(text)), None)


def joint_of(site: Concept | None) -> str | None:
    """The joint the charted site names: its SNOMED CT body structure, else its words."""
    if site is None:
        return None
    return _snomed(site, codes.SNOMED_JOINTS) or _first_word(_concept_text(site), _JOINT_PATTERNS)


def side_of(site: Concept | None) -> str | None:
    """RT, LT or 50 (both sides) from the site's SNOMED CT code or words."""
    if site is None:
        return None
    coded = _snomed(site, codes.SNOMED_SIDES)
    if coded is not None:
        return coded
    word = _first_word(_concept_text(site), _SIDE_PATTERNS)
    return codes.SIDE_WORDS[word] if word is not None else None


def _local_anesthetic(administration: Administration) -> bool:
    drug = administration.drug
    text = drug.searchable_text() if drug is not None else ""
    return any(word in text for word in codes.LOCAL_ANESTHETIC_WORDS)


def is_joint_injection(administration: Administration) -> bool:
    """Route intra-articular or intrabursal (as charted, else the order's)."""
    return administration.effective_route_kind == RouteKind.INTRA_ARTICULAR


def joint_injections(visit: VisitFacts, ctx: RuleContext) -> list[JointInjection]:
    """The visit's joint and bursa injections (vaccines, SAD, flushes and the like left out)."""
    found = []
    for administration in visit.administrations:
        if not (given(administration) and is_joint_injection(administration)):
            continue
        if excluded_from_drug_administration(administration, visit, ctx):
            continue
        method = _concept_text(administration.method)
        ultrasound = any(word in method for word in codes.ULTRASOUND_WORDS)
        found.append(
            JointInjection(
                administration,
                joint_of(administration.site),
                side_of(administration.site),
                ultrasound,
                ultrasound and any(word in method for word in codes.RECORDING_WORDS),
            )
        )
    return found


def _procedure_lines(
    same: list[JointInjection], visit: VisitFacts, bilateral: str
) -> list[ChargeLine]:
    """The lines of one joint's injections with one code on one date: one per side.

    Aspiration and injection of one joint in one session are one unit, however many drugs
    were charted into it. Fingers and toes are each their own joint (their digit modifiers
    are the coder's): one line per injection, no RT/LT and no modifier 50.
    """
    first = same[0]
    sides = {i.side for i in same}
    both = codes.MODIFIER_BILATERAL in sides or {codes.MODIFIER_RIGHT, codes.MODIFIER_LEFT} <= sides
    description = f"Arthrocentesis or injection, {first.size} joint or bursa" + (
        ", ultrasound guided" if first.recorded else ""
    )

    def line(injections: list[JointInjection], modifier: str | None) -> ChargeLine:
        diagnoses = [d for i in injections for d in diagnoses_of(i.administration, visit)]
        made = replace(
            admin_line(first.code, description, injections[0].administration, visit),
            modifiers=(modifier,) if modifier else (),
            diagnoses=tuple(dict.fromkeys(diagnoses)),
            services=tuple(i.administration.reference for i in injections),
        )
        if any(i.ultrasound and not i.recorded for i in injections):
            made = with_note(made, _UNRECORDED_NOTE)
        return made

    if first.size == codes.JOINT_SMALL:
        return [line([i], None) for i in same]
    if both and bilateral == codes.BILATERAL_MODIFIER_50:
        return [line(same, codes.MODIFIER_BILATERAL)]
    if both:
        right = [i for i in same if i.side != codes.MODIFIER_LEFT]
        left = [i for i in same if i.side != codes.MODIFIER_RIGHT]
        return [line(right, codes.MODIFIER_RIGHT), line(left, codes.MODIFIER_LEFT)]
    by_side: dict[str | None, list[JointInjection]] = {}
    for injection in same:
        by_side.setdefault(injection.side, []).append(injection)
    return [line(injections, side) for side, injections in by_side.items()]


def joint_lines(visit: VisitFacts, ctx: RuleContext) -> list[ChargeLine]:
    """BIL030: the arthrocentesis code of each sized joint injection, then its drug's line.

    One joint injected on both sides on one date (a site charted "bilateral", or one
    injection charted right and one left) is one service: modifier 50 on one line, or an RT
    and an LT line (PayerProfile.bilateral). An injection whose joint is not named (DOC019)
    has no line until the chart says which joint: its size decides the code, and a drug line
    alone would be billed without its procedure. A drug the patient brought has no line,
    nor a local anaesthetic (lidocaine, bupivacaine ...): it is part of the procedure.
    """
    sized = [i for i in joint_injections(visit, ctx) if i.joint is not None]
    bilateral = profile_of(visit, ctx).bilateral
    groups: dict[tuple[str, str, str], list[JointInjection]] = {}
    for injection in sized:
        key = (date_of_service(injection.administration), injection.joint or "", injection.code)
        groups.setdefault(key, []).append(injection)
    procedures = [
        line for same in groups.values() for line in _procedure_lines(same, visit, bilateral)
    ]
    drugs = [
        drug_line(i.administration, visit, ctx)
        for i in sized
        if not (i.administration.patient_supplied or _local_anesthetic(i.administration))
    ]
    return procedures + drugs
