"""Drugs charted by brand name are identified as their ingredient."""


def test_insulin_brand_names_are_insulin() -> None:
    """An insulin charted by brand (the HL7 example's Lantus) is insulin: J1815, SAD list."""
    from injection_cds.facts import Concept, Drug
    from injection_cds.reference import DrugCatalog

    lantus = Drug(Concept((), "Lantus 100 unit/ml injectable solution"))
    entry = DrugCatalog.shipped().identify(lantus)
    assert entry is not None
    assert entry.hcpcs == "J1815" and entry.self_administered
