from __future__ import annotations

import pytest

from injection_cds.core.ndc import format_ndc, normalise_ndc


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0002-7597-01", "00002759701"),  # 4-4-2
        ("50242-040-62", "50242004062"),  # 5-3-2
        ("60575-4112-1", "60575411201"),  # 5-4-1
        ("00002-7597-01", "00002759701"),  # 5-4-2
        ("00002759701", "00002759701"),  # 11 digits
        (" 0002-7597-01 ", "00002759701"),
        ("0002759701", None),  # 10 digits, no hyphens: ambiguous
        ("0002-759-701", None),
        ("12345-678-9", None),
        ("ABCDE-1234-12", None),
        ("", None),
        ("000027597011", None),
    ],
)
def test_normalise_ndc(raw: str, expected: str | None) -> None:
    assert normalise_ndc(raw) == expected


def test_format_ndc() -> None:
    assert format_ndc("00002759701") == "00002-7597-01"
