"""Critical stops: an administration that must not be billed until its chart is fixed. No I/O.

An expired product (DOC005) was a safety event, not a covered drug; an unidentified drug
(DOC014) cannot be coded at all. While either stop is open, none of the administration's
lines — its injection code, its drug line — is proposed (BIL027 says why).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from injection_cds.core.facts import Administration, Instant

_YEAR_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
STOP_EXPIRED = "DOC005"
STOP_UNIDENTIFIED = "DOC014"


@dataclass(frozen=True)
class Stop:
    """One administration held back from billing, and which documentation rule holds it."""

    administration: Administration
    rule: str  # STOP_EXPIRED | STOP_UNIDENTIFIED
    reason: str


def last_valid_day(expiration: Instant) -> date | None:
    """The last day a product may be used: the date, or the month's last day for YYYY-MM."""
    if expiration.date is not None:
        return expiration.date
    match = _YEAR_MONTH.match(expiration.text)
    if match:
        year, month = int(match.group(1)), int(match.group(2))
        if 1 <= month <= 12:
            return date(year, month, calendar.monthrange(year, month)[1])
    return None


def expired_when_given(administration: Administration) -> bool:
    """The product's expiration date is before the day it was given."""
    drug = administration.drug
    if drug is None or drug.expiration is None or administration.effective is None:
        return False
    last_day = last_valid_day(drug.expiration)
    given = administration.effective.date
    return last_day is not None and given is not None and given > last_day


def critical_stop(administration: Administration) -> Stop | None:
    """The open critical stop of a completed administration, if any."""
    if not administration.completed or administration.source != "administration":
        return None
    drug = administration.drug
    if drug is None or not drug.identified:
        return Stop(administration, STOP_UNIDENTIFIED, "the drug is not identified")
    if expired_when_given(administration):
        expiry = drug.expiration.text if drug.expiration else "?"
        return Stop(administration, STOP_EXPIRED, f"the product expired on {expiry}")
    return None
