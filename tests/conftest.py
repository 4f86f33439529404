"""Shared helpers for hand-built databases in the engine tests.

Positions are written as kilometres east/north of a reference point, so a reader can see
the geometry at a glance. On the contract's sphere (R = 6371.0088 km):

* 1 km north = 180 / (pi * 6371.0088) = 0.0089932 degrees of latitude;
* on the equator, 1 km east = the same 0.0089932 degrees of longitude, and the distance
  between two points on the equator (or one meridian) is exactly R * (angle in radians).

The fixtures below place everything on the equator or along a meridian where needed, so
that distances are exact by construction.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from quantumclusters.schema import FILES, Database

R_KM = 6371.0088
DEG_PER_KM = 180.0 / (math.pi * R_KM)  # 0.008993216...

INSTITUTION_COLUMNS = ["institution_id", "name", "type", "lat", "lon", "city", "country", "active_since", "spinout_of"]


def km_east(km: float, lat0: float = 0.0, lon0: float = 0.0) -> tuple[float, float]:
    """(lat, lon) of a point ``km`` east of (lat0, lon0) along the equator (lat0 must be 0
    for the distance to be exact)."""
    return lat0, lon0 + km * DEG_PER_KM


def km_north(km: float, lat0: float = 0.0, lon0: float = 0.0) -> tuple[float, float]:
    """(lat, lon) of a point ``km`` north of (lat0, lon0) along the meridian (exact)."""
    return lat0 + km * DEG_PER_KM, lon0


def institution(
    institution_id: str,
    lat: float,
    lon: float,
    type: str = "university",
    country: str = "FI",
    active_since: str = "2020-01-01",
    spinout_of: str | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    """One institutions.csv row (as the loader would give it)."""
    return {
        "institution_id": institution_id,
        "name": name if name is not None else f"Institution {institution_id}",
        "type": type,
        "lat": float(lat),
        "lon": float(lon),
        "city": "",
        "country": country,
        "active_since": pd.Timestamp(active_since),
        "spinout_of": spinout_of if spinout_of else np.nan,
    }


def group_at(
    prefix: str,
    n: int,
    lat: float,
    lon: float,
    types: Sequence[str] | None = None,
    country: str = "FI",
    **extra: Any,
) -> list[dict[str, Any]]:
    """``n`` institutions ``prefix01``, ``prefix02`` ... all at (lat, lon)."""
    types = list(types) if types is not None else ["university"] * n
    return [
        institution(f"{prefix}{i + 1:02d}", lat, lon, type=types[i], country=country, **extra) for i in range(n)
    ]


def funding_row(fid: str, institution_id: str, amount: float, kind: str = "vc", date: str = "2021-01-01") -> dict:
    return {
        "funding_id": fid,
        "institution_id": institution_id,
        "date": pd.Timestamp(date),
        "amount_usd": float(amount),
        "kind": kind,
    }


def collaboration_rows(pairs: Iterable[tuple[str, str]], prefix: str = "c", date: str = "2022-01-01") -> list[dict]:
    return [
        {"collaboration_id": f"{prefix}{k:05d}", "institution_a": a, "institution_b": b, "date": pd.Timestamp(date)}
        for k, (a, b) in enumerate(pairs)
    ]


def area(
    area_id: str,
    name: str,
    lat: float,
    lon: float,
    population: float = 1e6,
    gdp_usd: float = 1e11,
    country: str = "FI",
) -> dict[str, Any]:
    return {
        "area_id": area_id,
        "name": name,
        "country": country,
        "lat": float(lat),
        "lon": float(lon),
        "population": float(population),
        "gdp_usd": float(gdp_usd),
        "ecosystem_value_usd": np.nan,
    }


def _frame(rows: list[dict], columns: list[str], text: Sequence[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns)
    for col in text:
        frame[col] = frame[col].astype("string")
    return frame


def make_db(
    institutions: list[dict],
    funding: list[dict] | None = None,
    collaborations: list[dict] | None = None,
    areas: list[dict] | None = None,
) -> Database:
    """A :class:`Database` with the loader's dtypes (str ids, datetime64 dates, float)."""
    inst = _frame(institutions, INSTITUTION_COLUMNS, ["institution_id", "name", "type", "city", "country", "spinout_of"])
    inst["active_since"] = pd.to_datetime(inst["active_since"])
    fund = _frame(
        funding or [], ["funding_id", "institution_id", "date", "amount_usd", "kind"], ["funding_id", "institution_id", "kind"]
    )
    fund["date"] = pd.to_datetime(fund["date"])
    fund["amount_usd"] = fund["amount_usd"].astype(float)
    coll = _frame(
        collaborations or [],
        ["collaboration_id", "institution_a", "institution_b", "date"],
        ["collaboration_id", "institution_a", "institution_b"],
    )
    coll["date"] = pd.to_datetime(coll["date"])
    ar = _frame(
        areas or [],
        ["area_id", "name", "country", "lat", "lon", "population", "gdp_usd", "ecosystem_value_usd"],
        ["area_id", "name", "country"],
    )
    for col in ("lat", "lon", "population", "gdp_usd", "ecosystem_value_usd"):
        ar[col] = ar[col].astype(float)
    return Database(institutions=inst, funding=fund, collaborations=coll, areas=ar)


def ring_pairs(ids: Sequence[str], n: int) -> list[tuple[str, str]]:
    """``n`` distinct collaborations among ``ids`` (pairs (i, j), i < j, in order)."""
    pairs = [(ids[i], ids[j]) for i in range(len(ids)) for j in range(i + 1, len(ids))]
    assert n <= len(pairs), "not enough distinct pairs"
    return pairs[:n]


@pytest.fixture
def example_db() -> Database:
    """The hand-made example database of tests/data/example."""
    from pathlib import Path

    from quantumclusters.schema import load_database

    return load_database(Path(__file__).parent / "data" / "example")


#: The small hand-made example database (tests/data/example/README.md explains it).
EXAMPLE_DB = Path(__file__).parent / "data" / "example"


@pytest.fixture
def db_dir(tmp_path: Path) -> Path:
    """A fresh copy of the example database's four CSV files, safe to edit."""
    target = tmp_path / "db"
    target.mkdir()
    for name in FILES.values():
        shutil.copy(EXAMPLE_DB / name, target / name)
    return target
