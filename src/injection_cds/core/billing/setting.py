"""Where the service was given, and so which claim bills it. No I/O.

Read from the encounter: the place of service charted on ``Encounter.location`` →
``Location.type`` (a CMS POS coding, or an HL7 v3 RoleCode such as ER), else the class
(v3 ActCode), and the length of the stay (``Encounter.period``). Sources: Pub 100-04 ch.4
§230.2 (hospital outpatient drug administration on the hospital's claim), Pub 100-04 ch.12
§30.6.7 / the CMS POS code set (facility vs non-facility), 42 CFR 412.3(d) (the two-midnight
rule: a stay expected to span two midnights is an inpatient admission).
"""

from __future__ import annotations

from injection_cds.core import codes
from injection_cds.core.context import RuleContext
from injection_cds.core.facts import VisitFacts

_INPATIENT_CLASSES = frozenset({"IMP", "ACUTE", "NONAC"})
_HOSPITAL_OUTPATIENT_CLASSES = frozenset({"EMER", "OBSENC", "SS"})
_AMBULATORY_CLASSES = frozenset({"AMB"})
TWO_MIDNIGHTS = 2


def care_setting(visit: VisitFacts, ctx: RuleContext) -> str:
    """One of ``codes.SETTING_*`` for the visit."""
    encounter = visit.encounter
    if encounter is None:
        return codes.SETTING_UNKNOWN
    settings = ctx.settings
    pos = encounter.place_of_service
    if encounter.class_code == "VR" or pos in settings.telehealth_places_of_service:
        return codes.SETTING_TELEHEALTH
    if pos in settings.inpatient_places_of_service or encounter.class_code in _INPATIENT_CLASSES:
        return codes.SETTING_INPATIENT
    days = encounter.days
    if not encounter.place_of_service_charted and days is not None:
        # An office visit does not span a midnight; an outpatient stay over two midnights
        # is, by the two-midnight rule, usually an admission. Neither is billed as charted.
        if encounter.class_code in _AMBULATORY_CLASSES and days >= 1:
            return codes.SETTING_AMBIGUOUS
        if encounter.class_code in _HOSPITAL_OUTPATIENT_CLASSES and days >= TWO_MIDNIGHTS:
            return codes.SETTING_AMBIGUOUS
    if pos in codes.HOSPITAL_OUTPATIENT_POS or encounter.class_code in _HOSPITAL_OUTPATIENT_CLASSES:
        return codes.SETTING_HOSPITAL_OUTPATIENT
    if pos in settings.facility_places_of_service:
        return codes.SETTING_OTHER_FACILITY
    return codes.SETTING_OFFICE


def setting_words(setting: str, visit: VisitFacts) -> str:
    """The setting as a coder says it, for a card."""
    encounter = visit.encounter
    pos = encounter.place_of_service if encounter is not None else None
    where = f" (place of service {pos})" if pos else ""
    words = {
        codes.SETTING_HOSPITAL_OUTPATIENT: "hospital outpatient department",
        codes.SETTING_INPATIENT: "inpatient stay",
        codes.SETTING_OTHER_FACILITY: "facility",
        codes.SETTING_OFFICE: "office",
        codes.SETTING_TELEHEALTH: "telehealth encounter",
        codes.SETTING_AMBIGUOUS: "stay whose setting is not clear",
        codes.SETTING_UNKNOWN: "visit without an encounter",
    }
    return words.get(setting, setting) + where
