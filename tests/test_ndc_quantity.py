"""NDC unit qualifier and quantity: ML for liquids, UN for vials, as coders report them."""

from decimal import Decimal

import pytest

from injection_cds.core import codes, units
from injection_cds.core.context import PayerProfile
from injection_cds.core.extraction.index import ResourceIndex
from injection_cds.core.extraction.medication import drug_facts
from injection_cds.core.facts import Quantity, Strength

PROFILE = PayerProfile()


def q(value: str, unit: str | None) -> Quantity:
    return Quantity(Decimal(value), unit, unit, codes.UCUM if unit else None)


@pytest.mark.parametrize(
    ("dose", "strength", "expected"),
    [
        # B12 1000 mcg/mL, 1000 mcg given -> 1 mL
        (q("1000", "ug"), Strength(q("1000", "ug"), q("1", "mL")), ("ML", Decimal(1))),
        # ketorolac 30 mg/mL, 60 mg given -> 2 mL
        (q("60", "mg"), Strength(q("30", "mg"), q("1", "mL")), ("ML", Decimal(2))),
        # ceftriaxone 1 g powder vial, 1 g given -> one vial
        (q("1", "g"), Strength(q("1", "g"), q("1", "{vial}")), ("UN", Decimal(1))),
        # ceftriaxone 500 mg vials, 1 g given -> two vials
        (q("1000", "mg"), Strength(q("500", "mg"), Quantity(Decimal(1), "vial")), ("UN", 2)),
        # 600 mg from 500 mg vials -> two vials (a vial is not split on the claim)
        (q("600", "mg"), Strength(q("500", "mg"), None), ("UN", Decimal(2))),
        # insulin U-100, 10 units -> 0.1 mL
        (q("10", "[iU]"), Strength(q("100", "[iU]"), q("1", "mL")), ("ML", Decimal("0.1"))),
        # charted in mL: that volume
        (q("2", "mL"), None, ("ML", Decimal(2))),
    ],
)
def test_ndc_quantity_from_strength(
    dose: Quantity, strength: Strength | None, expected: tuple[str, Decimal]
) -> None:
    unit, quantity, note = units.ndc_quantity(dose, strength, PROFILE) or ("", 0, None)
    assert (unit, quantity) == expected
    assert note is None


def test_without_strength_or_package_a_mass_gives_no_guessed_unit() -> None:
    assert units.ndc_quantity(q("1", "g"), None, PROFILE) is None


def test_a_profile_asking_for_mg_gets_me_with_a_caveat() -> None:
    profile = PayerProfile(ndc_mass_unit="ME")
    unit, quantity, note = units.ndc_quantity(q("1", "g"), None, profile) or ("", 0, None)
    assert (unit, quantity) == ("ME", Decimal(1000))
    assert note == units.NDC_MG_NOTE


def test_strength_in_another_dimension_is_not_used() -> None:
    # mg per mL cannot convert a dose charted in units
    found = units.ndc_quantity(q("10", "[iU]"), Strength(q("30", "mg"), q("1", "mL")), PROFILE)
    assert found == ("F2", Decimal(10), None)


def test_strength_is_read_from_a_single_ingredient_medication() -> None:
    administration = {
        "resourceType": "MedicationAdministration",
        "contained": [
            {
                "resourceType": "Medication",
                "id": "med1",
                "code": {"text": "ketorolac 30 mg/mL"},
                "ingredient": [
                    {
                        "itemCodeableConcept": {"text": "ketorolac tromethamine"},
                        "strength": {
                            "numerator": {"value": 30, "unit": "mg", "code": "mg"},
                            "denominator": {"value": 1, "unit": "mL", "code": "mL"},
                        },
                    }
                ],
            }
        ],
        "medicationReference": {"reference": "#med1"},
    }
    drug = drug_facts(administration, ResourceIndex())
    assert drug is not None and drug.strength is not None
    assert drug.strength.numerator.value == 30
    assert drug.strength.denominator is not None and drug.strength.denominator.unit == "mL"
