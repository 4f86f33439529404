"""Contract section 3: countries to the paper's five regions, and the paper's spellings."""

from __future__ import annotations

import csv
from pathlib import Path

import pycountry
import pytest

from quantumclusters.regions import EU27, REGIONS, country_name, region_of

# The 27 member states, written out independently of the module (since 1 February 2020).
EU_MEMBERS = (
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split()
)


def test_regions_in_the_papers_order() -> None:
    assert REGIONS == ("US", "China", "EU", "UK, Canada, and Australia", "Rest of the World")


def test_eu27_is_the_27_member_states() -> None:
    assert len(EU_MEMBERS) == 27
    assert EU27 == frozenset(EU_MEMBERS)


@pytest.mark.parametrize("code", EU_MEMBERS)
def test_eu_member_states(code: str) -> None:
    assert region_of(code) == "EU"


@pytest.mark.parametrize(
    "code, region",
    [
        ("US", "US"),
        ("CN", "China"),
        ("HK", "China"),
        ("MO", "China"),
        ("GB", "UK, Canada, and Australia"),
        ("CA", "UK, Canada, and Australia"),
        ("AU", "UK, Canada, and Australia"),
        # not EU: former member, EEA/EFTA, candidates
        ("CH", "Rest of the World"),
        ("NO", "Rest of the World"),
        ("IS", "Rest of the World"),
        ("TR", "Rest of the World"),
        ("UA", "Rest of the World"),
        # the rest of the paper's countries
        ("JP", "Rest of the World"),
        ("KR", "Rest of the World"),
        ("IL", "Rest of the World"),
        ("IN", "Rest of the World"),
        ("SG", "Rest of the World"),
        ("AE", "Rest of the World"),
        ("TW", "Rest of the World"),
        ("NZ", "Rest of the World"),
        ("PR", "Rest of the World"),
    ],
)
def test_region_of(code: str, region: str) -> None:
    assert region_of(code) == region


def test_region_of_is_case_insensitive_and_total() -> None:
    assert region_of("fi") == "EU"
    assert region_of(" us ") == "US"
    assert region_of("XX") == "Rest of the World"
    every = {region_of(c.alpha_2) for c in pycountry.countries}
    assert every == set(REGIONS)


@pytest.mark.parametrize(
    "code, name",
    [
        ("GB", "UK"),
        ("US", "US"),
        ("AE", "UAE"),
        ("KR", "South Korea"),
        ("CN", "China"),
        ("HK", "Hong Kong"),
        ("TW", "Taiwan"),
        ("NL", "Netherlands"),
        ("CZ", "Czechia"),
        ("RU", "Russia"),
        ("IR", "Iran"),
        ("VN", "Vietnam"),
        ("FI", "Finland"),
        ("DE", "Germany"),
        ("FR", "France"),
        ("DK", "Denmark"),
        ("ES", "Spain"),
        ("IN", "India"),
        ("IL", "Israel"),
        ("JP", "Japan"),
        ("SG", "Singapore"),
        ("CH", "Switzerland"),
        ("AU", "Australia"),
        ("CA", "Canada"),
        ("BR", "Brazil"),
        ("AR", "Argentina"),
    ],
)
def test_country_name(code: str, name: str) -> None:
    assert country_name(code) == name


def test_country_name_unknown_code_is_returned_unchanged() -> None:
    assert country_name("XX") == "XX"
    assert country_name("gb") == "UK"


def test_every_country_and_region_of_table_a_is_spelled_as_in_the_paper() -> None:
    table_a = Path(__file__).parents[1] / "data" / "published" / "table_a.csv"
    if not table_a.exists():
        pytest.skip("data/published/table_a.csv not present")
    with open(table_a, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    names = {country_name(c.alpha_2): c.alpha_2 for c in pycountry.countries}
    for row in rows:
        assert row["country"] in names, row["country"]
        assert region_of(names[row["country"]]) == row["region"], row
