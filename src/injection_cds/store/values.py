"""Text going into the database: clipped to its column and free of control characters.

PostgreSQL refuses a NUL in text and SQLite keeps it, so a value would be stored on one
backend and make the other fail: every string is cleaned here, the same way for both.
"""

from __future__ import annotations

import re

# C0 controls and DEL, except tab, line feed and carriage return (kept in free-text comments).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clip(value: object, size: int) -> str | None:
    """``value`` as text without control characters, at most ``size`` characters; None stays."""
    if value is None:
        return None
    return _CONTROL.sub("", str(value))[:size]
