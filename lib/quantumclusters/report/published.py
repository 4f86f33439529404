"""The paper's published numbers (``data/published/``), loaded with proper types.

What the paper printed - Table A (= Table 1), Tables 2-8, the quasi-cluster counts behind
Figure 14, every number the text states with the tolerance its wording implies, and the list
of places where the paper contradicts itself - transcribed as CSV files and documented in
``data/published/README.md``. The ranking code never imports this module: only the fidelity
check (:mod:`quantumclusters.report.fidelity`), the tests and the chapters do.

>>> from quantumclusters import published
>>> len(published.table_a())
45
>>> published.table_a().loc[0, "cluster"]
'Cambridge'

Every loader takes ``published_dir`` (default :data:`PUBLISHED_DIR`, i.e. the repository's
``data/published``; the environment variable ``QUANTUMCLUSTERS_PUBLISHED`` overrides it).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .. import paths

__all__ = [
    "PUBLISHED_DIR",
    "DIMENSIONS",
    "RANK_COLUMNS",
    "PAPER_COUNTRY_ISO2",
    "STATED_CHECKS",
    "StatedNumber",
    "published_path",
    "table_a",
    "table",
    "figure_14",
    "stated_numbers",
    "stated_number_records",
    "inconsistencies",
    "aliases",
    "alias_map",
    "in_interval",
    "rank_of_label",
    "Reading",
    "READINGS",
    "reading_interval",
]

#: The default folder of the published numbers: ``<repository>/data/published``.
PUBLISHED_DIR: Path = paths.published_dir()

#: Dimension keys in the paper's order (the column prefixes of Table A).
DIMENSIONS: tuple[str, ...] = ("market_orientation", "collaboration_intensity", "ecosystem_maturity")
#: Table A's rank columns: overall and one per dimension.
RANK_COLUMNS: tuple[str, ...] = ("overall", *DIMENSIONS)

#: The paper's country names (Table A) and their ISO 3166-1 alpha-2 codes.
PAPER_COUNTRY_ISO2: dict[str, str] = {
    "Australia": "AU",
    "Canada": "CA",
    "China": "CN",
    "Denmark": "DK",
    "Finland": "FI",
    "France": "FR",
    "Germany": "DE",
    "India": "IN",
    "Israel": "IL",
    "Japan": "JP",
    "Netherlands": "NL",
    "Singapore": "SG",
    "South Korea": "KR",
    "Spain": "ES",
    "Switzerland": "CH",
    "UAE": "AE",
    "UK": "GB",
    "US": "US",
}

#: Values of the ``check`` column of stated_numbers.csv.
STATED_CHECKS: tuple[str, ...] = ("yes", "param", "context")

_TABLE_FILES: dict[int | str, str] = {
    "a": "table_a.csv",
    1: "table_1.csv",
    2: "table_2.csv",
    3: "table_3.csv",
    4: "table_4.csv",
    5: "table_5.csv",
    6: "table_6.csv",
    7: "table_7.csv",
    8: "table_8.csv",
}
_INT_COLUMNS = {"overall_rank", "market_orientation_rank", "collaboration_intensity_rank",
                "ecosystem_maturity_rank", "rank", "position", "industry_collaborations_per_tn_gdp",
                "count", "tier1_table7", "tier2_table8_as_printed", "tier1_plus_tier2_as_printed",
                "project_count"}  # fmt: skip
_BOOL_COLUMNS = {"also_tier1"}
_FLOAT_COLUMNS = ("value", "tol_low", "tol_high", "project_low", "project_high")


def published_path(published_dir: str | os.PathLike[str] | None = None) -> Path:
    """The folder to read: ``published_dir``, else ``$QUANTUMCLUSTERS_PUBLISHED``, else
    :data:`PUBLISHED_DIR`. A relative path is taken relative to the repository root."""
    if published_dir is None:
        env = os.environ.get("QUANTUMCLUSTERS_PUBLISHED")
        if not env:
            return PUBLISHED_DIR
        published_dir = env
    path = Path(published_dir).expanduser()
    if not path.is_absolute():
        path = paths.repo_root() / path
    return path


def _read(name: str, published_dir: str | os.PathLike[str] | None) -> pd.DataFrame:
    """Read one CSV with every column as text (no NA guessing: ``–`` and ``NA`` stay text),
    then type the known integer and boolean columns."""
    file = published_path(published_dir) / name
    if not file.is_file():
        raise FileNotFoundError(f"published data file not found: {file}")
    frame = pd.read_csv(file, dtype=str, keep_default_na=False, encoding="utf-8")
    for col in frame.columns:
        if col in _INT_COLUMNS:
            frame[col] = frame[col].astype("int64")
        elif col in _BOOL_COLUMNS:
            frame[col] = frame[col].str.lower().map({"true": True, "false": False}).astype(bool)
    return frame


def table_a(published_dir: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Table A: the 45 clusters in printed order, with ``overall_label`` / ``overall_rank``,
    ``cluster``, ``country``, ``region`` and each dimension's ``*_label`` / ``*_rank``."""
    return _read(_TABLE_FILES["a"], published_dir)


def table(n: int | str, published_dir: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Table ``n`` (1-8, or ``"a"``) as printed; see data/published/README.md for columns."""
    key: int | str = n.lower() if isinstance(n, str) and not n.isdigit() else int(n)
    if key not in _TABLE_FILES:
        raise KeyError(f"the paper has no Table {n!r} (tables: A, 1-8)")
    return _read(_TABLE_FILES[key], published_dir)


def figure_14(published_dir: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Quasi-clusters per region: as Section 6 states them (``count``), as Tables 7 and 8
    print them, and the project's documented choice (``project_count``)."""
    return _read("figure_14.csv", published_dir)


def _to_float(text: str) -> float:
    text = text.strip()
    if text == "":
        return math.nan
    return float(text)  # float() reads "inf" and "-inf"


def stated_numbers(published_dir: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Every number the text states, one row each: ``id``, ``section``, ``quote``, ``metric``,
    ``value``, ``unit``, ``wording``, ``precision``, ``tol_low``, ``tol_high``, ``bounds``,
    ``check``, ``project_low``, ``project_high``, ``inconsistency``, ``note``. Numeric
    columns are floats (``inf`` for an open end, NaN where empty)."""
    frame = _read("stated_numbers.csv", published_dir)
    for col in _FLOAT_COLUMNS:
        frame[col] = [_to_float(v) for v in frame[col]]
    return frame


@dataclass(frozen=True)
class StatedNumber:
    """One row of stated_numbers.csv."""

    id: str
    section: str
    quote: str
    metric: str
    value: float
    unit: str
    wording: str
    tol_low: float
    tol_high: float
    bounds: str
    check: str
    project_low: float = math.nan
    project_high: float = math.nan
    inconsistency: str = ""
    note: str = ""

    def contains(self, x: float) -> bool:
        """Whether ``x`` lies in the interval the wording implies."""
        return in_interval(x, self.tol_low, self.tol_high, self.bounds)

    def project_contains(self, x: float) -> bool:
        """Whether ``x`` lies in the interval of the project's documented choice (only for
        numbers where the paper contradicts itself; False otherwise)."""
        if math.isnan(self.project_low) or math.isnan(self.project_high):
            return False
        return in_interval(x, self.project_low, self.project_high, "[]")

    @property
    def interval(self) -> str:
        """The tolerance as text, e.g. ``[28.5, 29.5)``."""
        return f"{self.bounds[:1]}{_fmt(self.tol_low)}, {_fmt(self.tol_high)}{self.bounds[1:]}"


@dataclass(frozen=True)
class Reading:
    """How one kind of wording is read: its words, what it means in plain words, and the
    interval of values it allows for a stated value ``v`` printed to precision ``p`` (the unit
    of its last significant digit: 1 million for "418 million", 10 million for "750 million")."""

    words: str
    meaning: str
    interval: Callable[[float, float], tuple[float, float, str]]


def _p(p: float) -> float:
    if math.isnan(p):
        raise ValueError("this wording needs the precision of the printed figure")
    return p


#: Every wording of ``stated_numbers.csv``, read once. A stated number's interval is the one its
#: wording gives here; the file's ``tol_low``, ``tol_high`` and ``bounds`` are a copy the tests
#: hold equal to it.
READINGS: dict[str, Reading] = {
    "count": Reading("a count", "exactly the value", lambda v, p: (v, v, "[]")),
    "rank": Reading("a rank or position", "exactly the value", lambda v, p: (v, v, "[]")),
    "member": Reading("is / is among", "1 if it is, 0 if not: exactly the value", lambda v, p: (v, v, "[]")),
    "exact": Reading("a rounded figure (\u201c29 per cent\u201d, \u201cUSD 6.2 billion\u201d)",
                     "any value that rounds to it: from v \u2212 p/2 up to below v + p/2",
                     lambda v, p: (v - _p(p) / 2, v + _p(p) / 2, "[)")),
    "exact_pm1": Reading("a table's whole number", "within 1 of the printed value", lambda v, p: (v - 1, v + 1, "[]")),
    "about": Reading("\u201cabout\u201d, \u201caround\u201d", "within one unit of the last printed digit either way",
                     lambda v, p: (v - _p(p), v + _p(p), "[]")),
    "over_figure": Reading("\u201cover\u201d, \u201cmore than\u201d, \u201cexceeding\u201d a figure (\u201cover USD 418 million\u201d)",
                           "the figure is the value cut to its last printed digit: from v up to below v + p "
                           "(over USD 418 million: 418 to below 419 million)",
                           lambda v, p: (v, v + _p(p), "[)")),
    "above": Reading("\u201cabove\u201d, \u201cmore than\u201d a threshold (\u201cover half\u201d, \u201cabove 0.95\u201d, "
                     "\u201cmore than two and a half times\u201d)",
                     "at least the threshold, no upper bound: a fraction or a bound, not a rounded figure",
                     lambda v, p: (v, math.inf, "[)")),
    "at_least": Reading("\u201cat least\u201d, a predominance", "at least the value", lambda v, p: (v, math.inf, "[)")),
    "multiple": Reading("\u201cmultiple\u201d", "2 or more", lambda v, p: (v, math.inf, "[)")),
    "half_or_more": Reading("\u201chalf or more\u201d", "0.5 or more", lambda v, p: (v, math.inf, "[)")),
    "below": Reading("\u201cbelow\u201d, \u201cp < 0.001\u201d", "strictly below the value", lambda v, p: (-math.inf, v, "()")),
    "slightly_above": Reading("\u201cslightly more than\u201d", "from the value up to 10 per cent above it",
                              lambda v, p: (v, v + v / 10, "[)")),
    "nearly": Reading("\u201cnearly\u201d, \u201calmost\u201d", "below the value, by at most 15 per cent of it",
                      lambda v, p: (0.85 * v, v, "[)")),
    "just_under": Reading("\u201cjust under 1\u201d (a ratio of small counts)",
                          "from 0.8 up to below 1: with 5 research institutions, 4 spinouts (0.8) is the "
                          "largest ratio under 1", lambda v, p: (0.8 * v, v, "[)")),
    "range": Reading("a range of rounded figures (\u201c2\u20133 per cent\u201d)",
                     "from the lower figure rounded down to the upper rounded up: v is the middle of a range one "
                     "unit wide", lambda v, p: (v - _p(p), v + _p(p), "[)")),
    "range_count": Reading("\u201ctwo or three\u201d", "either count: v is the middle of two consecutive counts",
                           lambda v, p: (v - 0.5, v + 0.5, "[]")),
    "comparable": Reading("\u201ccomparable to\u201d (a ratio)",
                          "the smaller at least three quarters of the larger: a ratio from 0.75 to 4/3",
                          lambda v, p: (0.75 * v, v / 0.75, "[]")),
    "matching": Reading("\u201cmatching\u201d (a ratio)", "within 10 per cent either way", lambda v, p: (0.9 * v, 1.1 * v, "[]")),
    "wide_margin": Reading("\u201cby a wide margin\u201d (leader \u00f7 runner-up)",
                           "at least 1.25, as Table 4's 1,821 \u00f7 1,334 = 1.37, which the paper calls a wide margin",
                           lambda v, p: (v, math.inf, "[)")),
    "most": Reading("\u201cmost\u201d (a share)", "more than half", lambda v, p: (v, 1.0, "(]")),
}


def reading_interval(wording: str, value: float, precision: float = math.nan) -> tuple[float, float, str]:
    """The interval (low, high, bounds) that ``wording`` allows for a ``value`` printed to
    ``precision`` (:data:`READINGS`). Raises ``KeyError`` for a wording without a reading."""
    return READINGS[wording].interval(float(value), float(precision))


def _fmt(x: float) -> str:
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:.6g}"


def stated_number_records(published_dir: str | os.PathLike[str] | None = None) -> list[StatedNumber]:
    """:func:`stated_numbers` as a list of :class:`StatedNumber`."""
    frame = stated_numbers(published_dir)
    fields = StatedNumber.__dataclass_fields__
    return [StatedNumber(**{k: row[k] for k in fields}) for row in frame.to_dict("records")]


def inconsistencies(published_dir: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Where the paper contradicts itself: ``id``, ``kind``, ``where``, ``what``, ``choice``,
    ``affects``."""
    return _read("inconsistencies.csv", published_dir)


def aliases(published_dir: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Other spellings the text uses for a table's name: ``alias``, ``canonical``, ``kind``,
    ``where``."""
    return _read("aliases.csv", published_dir)


def alias_map(published_dir: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """``alias -> canonical`` (canonical names map to themselves implicitly)."""
    frame = aliases(published_dir)
    return dict(zip(frame["alias"], frame["canonical"], strict=True))


def in_interval(x: float, low: float, high: float, bounds: str = "[]") -> bool:
    """Whether ``x`` lies between ``low`` and ``high``; ``bounds`` says which ends are
    closed (``[]``, ``[)``, ``(]``, ``()``). NaN is never inside."""
    try:
        x = float(x)
    except (TypeError, ValueError):
        return False
    if math.isnan(x):
        return False
    lo_ok = x >= low if bounds[:1] == "[" else x > low
    hi_ok = x <= high if bounds[1:] == "]" else x < high
    return bool(lo_ok and hi_ok)


def rank_of_label(label: str) -> int:
    """The integer rank of a printed label (``"12="`` -> 12)."""
    return int(str(label).strip().rstrip("="))
