"""The rule registry: every rule under its stable code, its docstring as its documentation.

A rule is one small pure function ``(visit, ctx) -> Iterable[Finding]``. Most documentation
rules look at one administration at a time; ``per_administration`` turns such a check into
a rule. The docstring is parsed into the sections the rule pages and the README table show:

    One-line summary.

    Why it matters:
        ...
    How to fix:
        ...
    Bad:
        a FHIR fragment
    Good:
        a FHIR fragment
    Sources:
        - ...
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from injection_cds.core import codes
from injection_cds.core.billing import BillingPlan
from injection_cds.core.facts import Administration, VisitFacts

Severity = Literal["info", "warning", "critical"]
Family = Literal["documentation", "billing"]
SEVERITY_ORDER: dict[str, int] = {"info": 0, "warning": 1, "critical": 2}
# Finding.data key: this billing-only finding is needed now (the payer requires it).
NEEDED_NOW = "neededNow"


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a rule found, about one resource."""

    rule: str
    severity: Severity
    resource: str  # "MedicationAdministration/abc"
    element: str  # the FHIR path that is missing or wrong
    message: str  # one markdown line for the card detail: drug, time, what is wrong
    data: Mapping[str, Any] = field(default_factory=dict)  # machine-readable extras


RuleFunction = Callable[[VisitFacts, Any, BillingPlan], Iterable[Finding]]
"""A rule: the visit's facts, the rule context and the visit's billing plan → findings."""


@dataclass(frozen=True)
class RuleDoc:
    """A rule's docstring, split into the sections the pages show."""

    summary: str
    why: str = ""
    fix: str = ""
    bad: str = ""
    good: str = ""
    sources: str = ""


@dataclass(frozen=True)
class Rule:
    """A registered rule."""

    code: str
    family: Family
    severity: Severity  # the usual indicator; a finding may raise it (see RULES.md)
    function: RuleFunction
    doc: RuleDoc
    hooks: frozenset[str] | None = None  # None: every hook
    # Matters only for the claim (NDC, ICD-10-CM form): shown where billing is decided, at
    # the bedside only when a finding says the payer needs it now (NEEDED_NOW in its data).
    billing_only: bool = False

    @property
    def summary(self) -> str:
        """The rule's one-line summary (its docstring's first line)."""
        return self.doc.summary


REGISTRY: dict[str, Rule] = {}

# Markdown punctuation a charted value could use to format, link or break out of its line.
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]#!|~])")
_HTML_ENTITIES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))
_LINE_BREAKS = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
# Bidirectional marks, embeddings, overrides and isolates, and C1 controls: invisible, yet
# they reorder what follows on screen (the service's own words after the charted value).
_HIDDEN_CONTROLS = re.compile(r"[\x80-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# What GitHub Flavored Markdown's autolink extension turns into a link: a scheme's "://" and
# "www."; a backslash before the colon or the dot shows the same text, unlinked.
_AUTOLINK_COLON = re.compile(r":(?=//)")
_AUTOLINK_WWW = re.compile(r"\b(www)\.", re.IGNORECASE)


def charted(value: object) -> str:
    """A value from the chart (drug name, route text, NDC) as inert text in card markdown.

    Charted text is never markup: HTML's ``<``, ``>`` and ``&`` become entities (a
    ``<script>`` shows as text, in markdown and in HTML alike), markdown punctuation is
    backslash-escaped (no emphasis, link or table cell), line breaks become spaces (no
    new block such as a heading or a list), bidirectional controls are dropped (they
    would reorder the card's own words after the value), and a bare URL is not linked.
    """
    text = _LINE_BREAKS.sub(" ", _HIDDEN_CONTROLS.sub("", str(value))).strip()
    for raw, entity in _HTML_ENTITIES:
        text = text.replace(raw, entity)
    text = _MARKDOWN_PUNCTUATION.sub(r"\\\1", text)
    return _AUTOLINK_WWW.sub(r"\1\\.", _AUTOLINK_COLON.sub(r"\\:", text))


def label(administration: Administration) -> str:
    """An administration as a card names it: the drug in bold (charted text, inert) and when."""
    return f"**{charted(administration.drug_name)}** ({administration.when})"


def administration_finding(
    rule: str,
    severity: Severity,
    administration: Administration,
    element: str,
    message: str,
    data: Mapping[str, Any] | None = None,
) -> Finding:
    """A finding about one administration; its message follows the drug and time."""
    return Finding(
        rule=rule,
        severity=severity,
        resource=administration.reference,
        element=element,
        message=f"{label(administration)}: {message}",
        data=data or {},
    )


_SECTION_NAMES = {
    "why it matters": "why",
    "how to fix": "fix",
    "bad": "bad",
    "good": "good",
    "sources": "sources",
}
_SECTION_HEADER = re.compile(r"^([A-Za-z ]+):\s*$")


def parse_doc(docstring: str | None) -> RuleDoc:
    """Split a rule docstring into its sections."""
    text = inspect.cleandoc(docstring or "")
    lines = text.splitlines()
    summary = lines[0].strip() if lines else ""
    sections: dict[str, list[str]] = {}
    current: str | None = None
    for line in lines[1:]:
        header = _SECTION_HEADER.match(line)
        if header and header.group(1).strip().lower() in _SECTION_NAMES:
            current = _SECTION_NAMES[header.group(1).strip().lower()]
            sections[current] = []
        elif current is not None:
            sections[current].append(line[4:] if line.startswith("    ") else line)
    return RuleDoc(summary=summary, **{k: "\n".join(v).strip() for k, v in sections.items()})


def register(
    code: str,
    *,
    family: Family,
    severity: Severity,
    hooks: Iterable[str] | None = None,
    billing_only: bool = False,
) -> Callable[[RuleFunction], RuleFunction]:
    """Register a visit-level rule under its code."""

    def decorate(function: RuleFunction) -> RuleFunction:
        if code in REGISTRY:
            raise ValueError(f"rule code {code} registered twice")
        REGISTRY[code] = Rule(
            code=code,
            family=family,
            severity=severity,
            function=function,
            doc=parse_doc(function.__doc__),
            hooks=frozenset(hooks) if hooks is not None else None,
            billing_only=billing_only or family == "billing",
        )
        return function

    return decorate


AdministrationCheck = Callable[[Administration, VisitFacts, Any], "str | Finding | None"]


def per_administration(
    code: str,
    *,
    severity: Severity,
    element: str,
    orders_too: bool = False,
    candidates_only: bool = True,
    billing_only: bool = False,
) -> Callable[[AdministrationCheck], AdministrationCheck]:
    """Register a documentation check that looks at one administration at a time.

    The check returns None when the administration passes; a string (what is wrong, for
    the card) or a full ``Finding`` when it fails. Only billable candidates are checked
    unless ``candidates_only`` is False; orders (``order-sign``) only when ``orders_too``.
    Line flushes are never checked: they are line care, not a dose.
    """

    def decorate(check: AdministrationCheck) -> AdministrationCheck:
        def rule(visit: VisitFacts, ctx: Any, plan: BillingPlan) -> Iterator[Finding]:
            for administration in visit.administrations:
                if administration.source == "order" and not orders_too:
                    continue
                if candidates_only and not administration.billable_candidate:
                    continue
                if is_flush(administration):
                    continue
                outcome = check(administration, visit, ctx)
                if outcome is None:
                    continue
                if isinstance(outcome, Finding):
                    yield outcome
                else:
                    yield Finding(
                        rule=code,
                        severity=severity,
                        resource=administration.reference,
                        element=element,
                        message=outcome,
                    )

        rule.__doc__ = check.__doc__
        rule.__name__ = check.__name__
        register(code, family="documentation", severity=severity, billing_only=billing_only)(rule)
        return check

    return decorate


def is_flush(administration: Administration) -> bool:
    """A line flush (saline, heparin lock flush): line care, not a dose to document."""
    drug = administration.drug
    if drug is None:
        return False
    text = drug.searchable_text()
    return any(word in text for word in codes.FLUSH_WORDS)
