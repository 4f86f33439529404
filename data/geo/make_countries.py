#!/usr/bin/env python3
"""Make data/geo/countries_110m.geojson, the country outlines of the book's maps.

Source: Natural Earth "Admin 0 - Countries" at 1:110m (public domain,
https://www.naturalearthdata.com/about/terms-of-use/), in the copy that the PyPI wheel
geopandas==0.14.4 ships as ``geopandas/datasets/naturalearth_lowres`` (a shapefile; later
geopandas releases dropped it). This script fetches that wheel with pip (no other network
access), reads the shapefile with the standard library only, and writes a compact GeoJSON:
coordinates rounded to 0.01 degree, properties ``name``, ``iso_a3``, ``continent``.

    python data/geo/make_countries.py                 # pip download + convert
    python data/geo/make_countries.py --wheel W.whl   # convert an already downloaded wheel

The output is deterministic: running it again gives the same bytes.
"""

from __future__ import annotations

import argparse
import io
import json
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WHEEL = "geopandas==0.14.4"
MEMBER = "geopandas/datasets/naturalearth_lowres/naturalearth_lowres"
OUT = Path(__file__).resolve().parent / "countries_110m.geojson"
DIGITS = 2


def read_dbf(data: bytes, encoding: str = "utf-8") -> list[dict[str, str]]:
    """Records of a dBASE III file as dicts of stripped strings."""
    n_records, header_len, record_len = struct.unpack("<IHH", data[4:12])
    fields = []
    pos = 32
    while data[pos] != 0x0D:
        name = data[pos : pos + 11].split(b"\0", 1)[0].decode("ascii")
        length = data[pos + 16]
        fields.append((name, length))
        pos += 32
    rows = []
    for i in range(n_records):
        rec = data[header_len + i * record_len : header_len + (i + 1) * record_len]
        if rec[:1] == b"*":  # deleted
            continue
        off, row = 1, {}
        for name, length in fields:
            row[name] = rec[off : off + length].decode(encoding).strip()
            off += length
        rows.append(row)
    return rows


def read_shp_polygons(data: bytes) -> list[list[list[tuple[float, float]]]]:
    """Each record of a polygon shapefile as a list of rings of (lon, lat)."""
    shapes = []
    pos = 100
    while pos < len(data):
        _num, words = struct.unpack(">ii", data[pos : pos + 8])
        content = data[pos + 8 : pos + 8 + 2 * words]
        pos += 8 + 2 * words
        (shape_type,) = struct.unpack("<i", content[:4])
        if shape_type == 0:
            shapes.append([])
            continue
        if shape_type not in (5, 15, 25):
            raise ValueError(f"shape type {shape_type} is not a polygon")
        n_parts, n_points = struct.unpack("<ii", content[36:44])
        parts = list(struct.unpack(f"<{n_parts}i", content[44 : 44 + 4 * n_parts]))
        base = 44 + 4 * n_parts
        pts = struct.unpack(f"<{2 * n_points}d", content[base : base + 16 * n_points])
        xy = list(zip(pts[0::2], pts[1::2]))
        bounds = parts + [n_points]
        shapes.append([xy[bounds[k] : bounds[k + 1]] for k in range(n_parts)])
    return shapes


def signed_area(ring: list[tuple[float, float]]) -> float:
    return 0.5 * sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1]))


def rounded(ring: list[tuple[float, float]]) -> list[list[float]]:
    out: list[list[float]] = []
    for x, y in ring:
        p = [round(x, DIGITS), round(y, DIGITS)]
        if not out or out[-1] != p:
            out.append(p)
    if out[0] != out[-1]:
        out.append(out[0])
    return out


def to_multipolygon(rings: list[list[tuple[float, float]]]) -> list[list[list[list[float]]]]:
    """Shapefile rings (outer clockwise, holes anticlockwise) to GeoJSON polygons
    (RFC 7946: outer anticlockwise, holes clockwise)."""
    polygons: list[list[list[list[float]]]] = []
    for ring in rings:
        r = rounded(ring)
        if len(r) < 4:
            continue
        if signed_area(ring) < 0:  # clockwise: an outer ring
            polygons.append([r[::-1]])
        elif polygons:  # a hole of the last outer ring
            polygons[-1].append(r[::-1])
    return polygons


def convert(wheel: Path) -> dict:
    with zipfile.ZipFile(wheel) as zf:
        shp = zf.read(MEMBER + ".shp")
        dbf = zf.read(MEMBER + ".dbf")
        cpg = zf.read(MEMBER + ".cpg").decode("ascii").strip() or "utf-8"
    records = read_dbf(dbf, "latin-1" if cpg.upper() in ("ISO-8859-1", "LATIN1", "1252") else cpg)
    shapes = read_shp_polygons(shp)
    if len(records) != len(shapes):
        raise ValueError("shapefile and dbf disagree on the number of records")
    features = []
    for rec, rings in sorted(zip(records, shapes), key=lambda t: t[0]["name"]):
        polys = to_multipolygon(rings)
        if not polys:
            continue
        features.append(
            {
                "type": "Feature",
                "properties": {"name": rec["name"], "iso_a3": rec["iso_a3"], "continent": rec["continent"]},
                "geometry": {"type": "MultiPolygon", "coordinates": polys},
            }
        )
    return {
        "type": "FeatureCollection",
        "source": "Natural Earth 1:110m Admin 0 Countries (public domain), via the geopandas 0.14.4 wheel "
        "(naturalearth_lowres); made by data/geo/make_countries.py",
        "features": features,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--wheel", type=Path, help="a downloaded geopandas-0.14.4 wheel")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel
        if wheel is None:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", tmp, WHEEL], check=True
            )
            wheel = next(Path(tmp).glob("geopandas-*.whl"))
        fc = convert(wheel)
    text = json.dumps(fc, ensure_ascii=False, separators=(",", ":"))
    # one feature per line keeps diffs readable
    text = text.replace(',{"type":"Feature"', ',\n{"type":"Feature"').replace('"features":[{', '"features":[\n{')
    args.out.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({len(fc['features'])} countries, {args.out.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
