"""Countries and the paper's five world regions (CONTRACT.md section 3).

``US`` is the US; ``CN``, ``HK`` and ``MO`` are China; the 27 EU member states are the EU;
``GB``, ``CA`` and ``AU`` are "UK, Canada, and Australia"; every other country is the
"Rest of the World". A cluster's country and region are those of the area it is named after.
"""

from __future__ import annotations

import pycountry

__all__ = [
    "REGIONS",
    "US",
    "CHINA",
    "EU",
    "UK_CANADA_AUSTRALIA",
    "REST_OF_WORLD",
    "EU27",
    "region_of",
    "country_name",
]

US = "US"
CHINA = "China"
EU = "EU"
UK_CANADA_AUSTRALIA = "UK, Canada, and Australia"
REST_OF_WORLD = "Rest of the World"

#: The five regions in the paper's order (Table A, Figures 1 and 14).
REGIONS: tuple[str, ...] = (US, CHINA, EU, UK_CANADA_AUSTRALIA, REST_OF_WORLD)

#: The 27 member states of the European Union (since 1 February 2020), ISO alpha-2.
EU27: frozenset[str] = frozenset(
    {
        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
        "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
    }
)  # fmt: skip

_REGION_BY_CODE: dict[str, str] = {
    "US": US,
    "CN": CHINA,
    "HK": CHINA,
    "MO": CHINA,
    "GB": UK_CANADA_AUSTRALIA,
    "CA": UK_CANADA_AUSTRALIA,
    "AU": UK_CANADA_AUSTRALIA,
    **{code: EU for code in EU27},
}

# The paper's spellings where they differ from pycountry's common name, plus short forms
# for names pycountry gives in the "X, Republic of" style.
_PAPER_NAMES: dict[str, str] = {
    "GB": "UK",
    "US": "US",
    "AE": "UAE",
    "KR": "South Korea",
    "KP": "North Korea",
    "CN": "China",
    "TW": "Taiwan",
    "HK": "Hong Kong",
    "MO": "Macao",
    "NL": "Netherlands",
    "RU": "Russia",
    "IR": "Iran",
    "VN": "Vietnam",
    "CZ": "Czechia",
    "TR": "Türkiye",
    "LA": "Laos",
    "SY": "Syria",
    "MD": "Moldova",
    "TZ": "Tanzania",
    "BO": "Bolivia",
    "VE": "Venezuela",
    "BN": "Brunei",
    "PS": "Palestine",
    "CD": "DR Congo",
    "FM": "Micronesia",
}


def region_of(iso2: str) -> str:
    """The paper's region of an ISO 3166-1 alpha-2 country code (case-insensitive).

    >>> region_of("FI"), region_of("HK"), region_of("CH")
    ('EU', 'China', 'Rest of the World')
    """
    return _REGION_BY_CODE.get(str(iso2).strip().upper(), REST_OF_WORLD)


def country_name(iso2: str) -> str:
    """The country's name as the paper writes it (``GB`` -> ``UK``, ``KR`` -> ``South Korea``).

    Codes the paper does not use fall back to pycountry's common name, then its name; an
    unknown code is returned unchanged.

    >>> country_name("GB"), country_name("AE"), country_name("FI")
    ('UK', 'UAE', 'Finland')
    """
    code = str(iso2).strip().upper()
    if code in _PAPER_NAMES:
        return _PAPER_NAMES[code]
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return str(iso2)
    return str(getattr(country, "common_name", None) or country.name)
