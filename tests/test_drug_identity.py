"""Drugs charted by brand name are identified as their ingredient."""


def test_insulin_brand_names_are_insulin() -> None:
    """An insulin charted by brand (the HL7 example's Lantus) is insulin: J1815, SAD list."""
    from injection_cds.core.facts import Concept, Drug
    from injection_cds.reference.catalog import DrugCatalog

    lantus = Drug(Concept((), "Lantus 100 unit/ml injectable solution"))
    entry = DrugCatalog.shipped().identify(lantus)
    assert entry is not None
    assert entry.hcpcs == "J1815" and entry.self_administered


def test_a_local_code_that_is_the_drug_name_identifies_it() -> None:
    """MIMIC charts the drug as a code of its own mimic-medication-name system."""
    from injection_cds.core.facts import Coding, Concept, Drug
    from injection_cds.reference.catalog import DrugCatalog

    name_system = "http://mimic.mit.edu/fhir/mimic/CodeSystem/mimic-medication-name"
    catalog = DrugCatalog.shipped()
    insulin = catalog.identify(Drug(Concept((Coding(name_system, "Insulin"),))))
    heparin = catalog.identify(Drug(Concept((Coding(name_system, "Heparin"),))))
    assert insulin is not None and insulin.hcpcs == "J1815"
    assert heparin is not None and heparin.hcpcs == "J1644"


def test_a_standard_code_is_never_read_as_a_name() -> None:
    from injection_cds.core import codes
    from injection_cds.core.facts import Coding, Concept, Drug
    from injection_cds.reference.catalog import DrugCatalog

    # an RxNorm code is a number; a formulary code like HEPA5I is not a drug name either
    drug = Drug(Concept((Coding(codes.RXNORM, "1361615"), Coding("urn:local", "HEPA5I"))))
    assert DrugCatalog.shipped().identify(drug) is None


def test_parenteral_nutrition_is_not_the_saline_its_electrolytes_name() -> None:
    """TPN lists sodium chloride among its electrolytes; it is nutrition, never J7030."""
    from injection_cds.core.facts import Concept, Drug
    from injection_cds.reference.catalog import DrugCatalog

    catalog = DrugCatalog.shipped()
    electrolytes = "TPN Electrolytes SODIUM CHLORIDE, CALCIUM CHLORIDE, POTASSIUM CHLORIDE"
    saline = catalog.identify(Drug(Concept((), "sodium chloride 0.9% 1000 mL bag")))
    assert saline is not None and saline.hcpcs == "J7030"
    assert catalog.identify(Drug(Concept((), electrolytes))) is None
    assert catalog.identify(Drug(Concept((), "Kabiven emulsion with sodium chloride"))) is None
