"""The container table and the FDA NDC Directory package file; SAD lists (shipped, MAC)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from injection_cds.config import ConfigError
from injection_cds.core import codes
from injection_cds.reference.containers import (
    ContainerFileError,
    ContainerTable,
    container_content,
    container_kind,
    read_fda_package_file,
)
from injection_cds.reference.self_administered import SadList, SadListError, read_mac_sad_list
from injection_cds.reference.settings import rule_context_from_config

PACKAGE_TXT = (
    "PRODUCTID\tPRODUCTNDC\tNDCPACKAGECODE\tPACKAGEDESCRIPTION\tSTARTMARKETINGDATE\t"
    "ENDMARKETINGDATE\tNDC_EXCLUDE_FLAG\tSAMPLE_PACKAGE\n"
    "0409-7332_x\t0409-7332\t0409-7332-01\t10 VIAL, SINGLE-DOSE in 1 CARTON (0409-7332-01)  > "
    "1 g in 1 VIAL, SINGLE-DOSE\t20100101\t\tN\tN\n"
    "63323-165_y\t63323-165\t63323-165-05\t25 VIAL, MULTI-DOSE in 1 TRAY (63323-165-05)  > "
    "5 mL in 1 VIAL, MULTI-DOSE\t20100101\t\tN\tN\n"
    "67457-623_z\t67457-623\t67457-623-99\t25 VIAL in 1 CARTON (67457-623-99)  > 10 mL in 1 VIAL"
    "\t20100101\t\tN\tN\n"
)


def test_package_descriptions_say_the_container() -> None:
    assert container_kind("1 SYRINGE, GLASS in 1 CARTON > .4 mL in 1 SYRINGE, GLASS") == (
        codes.CONTAINER_SINGLE_DOSE
    )
    assert container_kind("10 AMPULE in 1 BOX / 1 mL in 1 AMPULE") == codes.CONTAINER_SINGLE_DOSE
    assert container_kind("25 VIAL, MULTI-DOSE in 1 TRAY") == codes.CONTAINER_MULTI_DOSE
    assert container_kind("5 PEN in 1 CARTON > 3 mL in 1 PEN") is None
    assert container_kind("25 VIAL in 1 CARTON > 10 mL in 1 VIAL") is None
    assert container_content("1 VIAL, SINGLE-DOSE in 1 CARTON > 2 mL in 1 VIAL, SINGLE-DOSE") == (
        Decimal(2),
        "mL",
    )


def test_fda_package_file_tab_separated() -> None:
    table = read_fda_package_file(PACKAGE_TXT, "package.txt")
    single = table.container("00409733201")
    assert single is not None and single.kind == codes.CONTAINER_SINGLE_DOSE
    multi = table.container("63323016505")
    assert multi is not None and multi.kind == codes.CONTAINER_MULTI_DOSE
    assert multi.content_amount == Decimal(5) and multi.content_unit == "mL"
    assert table.container("67457062399") is None  # a bare VIAL says nothing


def test_fda_package_file_as_csv_and_merged_over_the_shipped_table() -> None:
    csv_text = PACKAGE_TXT.replace("\t", ",").replace(", SINGLE-DOSE", " SINGLE-DOSE")
    csv_text = csv_text.replace(", MULTI-DOSE", " MULTI-DOSE")
    loaded = read_fda_package_file(csv_text, "package.csv")
    merged = ContainerTable.shipped().merged(loaded)
    assert merged.container("63323016505") == loaded.container("63323016505")
    assert merged.container("55513014410") == ContainerTable.shipped().container("55513014410")


def test_fda_package_file_without_its_header_is_refused() -> None:
    with pytest.raises(ContainerFileError):
        read_fda_package_file("NDC\tDESCRIPTION\n0409-7332-01\tvial\n", "bad.txt")


def test_shipped_sad_list_names_insulin_and_glp1_but_not_b12() -> None:
    sad = SadList.shipped()
    assert sad.lists(None, "insulin glargine 100 units/ml") == "insulin"
    assert sad.lists("J0135", "") == "J0135"
    assert sad.lists(None, "ozempic pen") == "ozempic"
    assert sad.lists("J3420", "cyanocobalamin") is None


def test_mac_sad_list_reads_codes_and_ingredient_names() -> None:
    text = (
        "Self-Administered Drug Exclusion List\n"
        "HCPCS Code,Drug Name,Effective Date\n"
        'J3030,"Sumatriptan succinate (Imitrex)",10/01/2021\n'
        "J1815,Insulin (all products),12/11/2022\n"
    )
    sad = read_mac_sad_list(text, "mac.csv")
    assert sad.hcpcs == frozenset({"J3030", "J1815"})
    assert sad.lists(None, "sumatriptan 6 mg autoinjector") == "sumatriptan"
    assert sad.lists(None, "all products") is None
    with pytest.raises(SadListError):
        read_mac_sad_list("no header here\n1,2\n", "bad.csv")


def test_unreadable_reference_files_are_configuration_errors(tmp_path: Path) -> None:
    bad = tmp_path / "package.txt"
    bad.write_text("NDC\tDESCRIPTION\n", "utf-8")
    with pytest.raises(ConfigError):
        rule_context_from_config({"billing": {"fda_ndc_packages": str(bad)}})
    with pytest.raises(ConfigError):
        rule_context_from_config({"billing": {"sad_list": str(tmp_path / "missing.csv")}})
