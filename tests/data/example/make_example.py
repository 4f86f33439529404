"""Write the hand-made example database of this folder (run once; the CSVs are committed).

    python tests/data/example/make_example.py

Everything is laid out by hand below: positions are given as (km east, km north) of an area
centre, so a reader can see at a glance which institutions are close to each other. There
is no randomness. See README.md in this folder for what the example should produce.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = "hand-made example (tests/data/example)"

# area_id, name, country, lat, lon, population, gdp_usd, ecosystem_value_usd
AREAS = [
    ("fi-hel", "Greater Helsinki", "FI", 60.1699, 24.9384, 1600000, 110000000000, 5000000000),
    ("cn-hef", "Hefei", "CN", 31.8206, 117.2272, 9630000, 180000000000, ""),
    ("nl-del", "Delft–The Hague", "NL", 52.0116, 4.3571, 1100000, 60000000000, ""),
    ("gb-lon", "Greater London", "GB", 51.5074, -0.1278, 9000000, 650000000000, 250000000000),
    ("us-bos", "Greater Boston", "US", 42.3601, -71.0589, 4900000, 500000000000, 45000000000),
]
CENTRE = {a[0]: (a[3], a[4]) for a in AREAS}

# institution_id, name, type, area (position reference), km east, km north, city, country,
# active_since, spinout_of
INSTITUTIONS = [
    # Greater Helsinki: 14 institutions within 6 km of the centre; one (hel-s5) becomes
    # active only after the default cut-off 2025-07-31, so 13 count.
    ("hel-u1", "Kallio University", "university", "fi-hel", 0.5, 0.8, "Helsinki", "FI", "2010-01-01", ""),
    ("hel-u2", "Espoo Institute of Technology", "university", "fi-hel", -5.5, 1.0, "Espoo", "FI", "2008-09-01", ""),
    ("hel-u3", "Helsinki School of Computing", "university", "fi-hel", 1.5, -0.5, "Helsinki", "FI", "2015-03-01", ""),
    ("hel-r1", "Finnish Quantum Research Centre", "research_institute", "fi-hel", -4.8, 1.6, "Espoo", "FI", "2012-05-01", ""),
    ("hel-r2", "Baltic Photonics Institute", "research_institute", "fi-hel", 2.5, 2.0, "Helsinki", "FI", "2016-01-01", ""),
    ("hel-r3", "Otaniemi Cryogenics Lab", "research_institute", "fi-hel", -5.0, 0.2, "Espoo", "FI", "2018-06-01", ""),
    ("hel-g1", "Finnish Metrology Agency", "government", "fi-hel", -1.0, 3.0, "Helsinki", "FI", "2019-01-01", ""),
    ("hel-s1", "Kvantti Oy", "startup", "fi-hel", -5.2, 1.3, "Espoo", "FI", "2018-09-01", "hel-u2"),
    ("hel-s2", "Sointu Quantum", "startup", "fi-hel", 0.8, 1.2, "Helsinki", "FI", "2020-02-01", "hel-u1"),
    ("hel-s3", "Revontuli Qubits", "startup", "fi-hel", 3.0, -1.0, "Helsinki", "FI", "2021-04-01", ""),
    ("hel-s4", "Pakkanen Cryo", "startup", "fi-hel", -4.5, 0.9, "Espoo", "FI", "2022-10-01", "hel-r1"),
    ("hel-s5", "Lumi Photonics", "startup", "fi-hel", 1.0, 0.0, "Helsinki", "FI", "2025-09-15", ""),
    ("hel-c1", "Nordic Telecom Oyj", "corporate", "fi-hel", -3.0, 2.5, "Espoo", "FI", "2017-01-01", ""),
    ("hel-c2", "Suomi Semiconductors", "corporate", "fi-hel", 4.0, 1.0, "Helsinki", "FI", "2019-11-01", ""),
    # Hefei: 12 institutions within 5 km; the startup 本源量子 has the id 007.
    ("007", "本源量子", "startup", "cn-hef", 1.0, 1.0, "Hefei", "CN", "2017-09-01", "hef-r1"),
    ("hef-u1", "Hefei Quantum University", "university", "cn-hef", 0.0, 0.5, "Hefei", "CN", "2005-01-01", ""),
    ("hef-u2", "Anhui University of Physics", "university", "cn-hef", -2.0, 1.5, "Hefei", "CN", "2009-01-01", ""),
    ("hef-u3", "Hefei Normal University", "university", "cn-hef", 2.5, -2.0, "Hefei", "CN", "2014-01-01", ""),
    ("hef-r1", "Hefei National Laboratory for Quantum Information", "research_institute", "cn-hef", 0.5, -0.5, "Hefei", "CN", "2006-01-01", ""),
    ("hef-r2", "Anhui Institute of Optics", "research_institute", "cn-hef", -1.5, -1.0, "Hefei", "CN", "2011-01-01", ""),
    ("hef-r3", "合肥量子计量研究所", "research_institute", "cn-hef", 3.5, 1.5, "Hefei", "CN", "2016-01-01", ""),
    ("hef-g1", "Hefei High-Tech Zone Administration", "government", "cn-hef", -3.0, -3.0, "Hefei", "CN", "2018-01-01", ""),
    ("hef-s2", "国盾光子", "startup", "cn-hef", 1.5, 2.5, "Hefei", "CN", "2019-05-01", "hef-u1"),
    ("hef-s3", "Chaoyang Photonics", "startup", "cn-hef", -0.5, 3.0, "Hefei", "CN", "2021-08-01", ""),
    ("hef-c1", "Yangtze Telecom", "corporate", "cn-hef", 4.0, 0.0, "Hefei", "CN", "2015-06-01", ""),
    ("hef-c2", "Anhui Electronics Group", "corporate", "cn-hef", -4.0, 0.5, "Hefei", "CN", "2020-01-01", ""),
    # Delft–The Hague: 7 institutions, too few for a cluster (10 needed), enough for a
    # quasi-cluster (5); its startup raised USD 6 M, so Tier 1.
    ("del-u1", "Delft Polytechnic", "university", "nl-del", 0.0, 0.0, "Delft", "NL", "2011-01-01", ""),
    ("del-r1", "Netherlands Qubit Institute", "research_institute", "nl-del", 0.8, 0.6, "Delft", "NL", "2014-01-01", ""),
    ("del-r2", "Zeeland Nanolab", "research_institute", "nl-del", -1.0, 1.2, "Delft", "NL", "2016-01-01", ""),
    ("del-s1", "Oranje Quantum BV", "startup", "nl-del", 0.4, -0.8, "Delft", "NL", "2019-03-01", "del-u1"),
    ("del-s2", "Polder Photonics", "startup", "nl-del", -0.6, -0.4, "Delft", "NL", "2021-06-01", ""),
    ("del-g1", "Dutch Standards Office", "government", "nl-del", -3.0, 6.0, "The Hague", "NL", "2013-01-01", ""),
    ("del-c1", "Rijn Instruments NV", "corporate", "nl-del", 1.5, 1.5, "Delft", "NL", "2012-01-01", ""),
    # Noise: one institution each, far from everything else.
    ("lon-u1", "Thames University", "university", "gb-lon", 0.0, 0.0, "London", "GB", "2010-01-01", ""),
    ("bos-s1", "Charles River Qubits", "startup", "us-bos", 0.0, 0.0, "Boston", "US", "2020-01-01", ""),
    ("syd-u1", "Harbour University", None, None, None, None, "Sydney", "AU", "2012-01-01", ""),
    ("tor-r1", "Ontario Quantum Institute", None, None, None, None, "Toronto", "CA", "2013-01-01", ""),
    ("muc-u1", "Isar Technical University", None, None, None, None, "Munich", "DE", "2009-01-01", ""),
    ("tok-c1", "Edo Electronics KK", None, None, None, None, "Tokyo", "JP", "2016-01-01", ""),
    ("zrh-u1", "Limmat Institute of Technology", None, None, None, None, "Zürich", "CH", "2011-01-01", ""),
    ("0042", "Lion City Quantum Centre", None, None, None, None, "Singapore", "SG", "2017-01-01", ""),
]
# Noise institutions placed directly by coordinates (type, lat, lon).
DIRECT = {
    "syd-u1": ("university", -33.8886, 151.1873),
    "tor-r1": ("research_institute", 43.6629, -79.3957),
    "muc-u1": ("university", 48.1497, 11.5679),
    "tok-c1": ("corporate", 35.6581, 139.7017),
    "zrh-u1": ("university", 47.3763, 8.5477),
    "0042": ("research_institute", 1.2966, 103.7764),
}

# funding_id, institution_id, date, amount_usd, kind
FUNDING = [
    ("F001", "hel-s1", "2021-03-15", "12000000", "vc"),
    ("F002", "hel-s1", "2023-06-30", "8000000", "equity"),
    ("F003", "hel-s2", "2022-11-01", "6000000", "vc"),
    ("F004", "hel-s3", "2022-02-01", "500000", "grant"),
    ("F005", "hel-c1", "2024-01-10", "20000000", "corporate"),
    ("F006", "hel-s5", "2025-10-01", "4000000", "vc"),        # after the cut-off
    ("F007", "007", "2021-09-01", "30000000", "vc"),
    ("F008", "007", "2024-05-20", "5000000", "debt"),
    ("F009", "hef-s2", "2023-03-03", "2000000", "vc"),
    ("F010", "hef-c1", "2022-07-07", "50000000", "corporate"),
    ("F011", "del-s1", "2023-09-12", "6000000", "vc"),
    ("F012", "del-s2", "2024-02-02", "1000000", "grant"),
    ("F013", "bos-s1", "2022-12-12", "3000000", "vc"),
    ("F014", "hel-s2", "2025-07-31", "1500000", "equity"),    # on the cut-off day: counts
    ("F015", "hel-s3", "2025-08-01", "2500000", "vc"),        # the day after: does not
]


def members(prefix: str) -> list[str]:
    return [i[0] for i in INSTITUTIONS if i[0].startswith(prefix) and i[8] <= "2025-07-31"]


def pairs(ids: list[str], n: int, start: int = 0) -> list[tuple[str, str]]:
    all_pairs = [(a, b) for k, a in enumerate(ids) for b in ids[k + 1:]]
    return [all_pairs[(start + j) % len(all_pairs)] for j in range(n)]


def collaborations() -> list[tuple[str, str]]:
    hel = members("hel-")
    hef = ["007"] + members("hef-")
    dl = members("del-")
    noise = ["lon-u1", "bos-s1", "syd-u1", "tor-r1", "muc-u1", "tok-c1", "zrh-u1", "0042"]
    rows: list[tuple[str, str]] = []
    rows += pairs(hel, 20)                                   # Helsinki internal
    rows += pairs(hef, 15)                                   # Hefei internal
    rows += [(hel[k], hef[k]) for k in range(6)]             # Helsinki - Hefei
    rows += pairs(dl, 21) + pairs(dl, 9, start=3)            # Delft internal: 30
    rows += [(dl[k % 7], hel[k]) for k in range(12)]         # Delft - Helsinki: 12
    rows += [(dl[k % 7], noise[k % 8]) for k in range(10)]   # Delft - noise: 10
    rows += [(noise[k], hel[k]) for k in range(4)]           # noise - Helsinki
    rows += [(noise[k + 4], hef[k]) for k in range(4)]       # noise - Hefei
    return rows


def main() -> None:
    inst_rows = []
    for iid, name, typ, area, east, north, city, country, since, spin in INSTITUTIONS:
        if iid in DIRECT:
            typ, lat, lon = DIRECT[iid]
        else:
            lat0, lon0 = CENTRE[area]
            lat = lat0 + north / 111.195
            lon = lon0 + east / (111.195 * math.cos(math.radians(lat0)))
        inst_rows.append([iid, name, typ, f"{lat:.4f}", f"{lon:.4f}", city, country, since,
                          spin, "true", SOURCE])
    with open(HERE / "institutions.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["institution_id", "name", "type", "lat", "lon", "city", "country",
                    "active_since", "spinout_of", "synthetic", "source"])
        w.writerows(inst_rows)
    with open(HERE / "funding.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["funding_id", "institution_id", "date", "amount_usd", "kind",
                    "synthetic", "source"])
        w.writerows([list(r) + ["true", SOURCE] for r in FUNDING])
    coll = collaborations()
    start = dt.date(2019, 1, 10)
    with open(HERE / "collaborations.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["collaboration_id", "institution_a", "institution_b", "date",
                    "synthetic", "source"])
        for k, (a, b) in enumerate(coll, start=1):
            day = start + dt.timedelta(days=(k * 17) % 2350)
            w.writerow([f"C{k:03d}", a, b, day.isoformat(), "true", SOURCE])
        n = len(coll)
        # Cut-off edge cases: on the day (counts), the day after (does not), and a
        # partner that is not yet active (does not).
        w.writerow([f"C{n + 1:03d}", "del-u1", "del-r1", "2025-07-31", "true", SOURCE])
        w.writerow([f"C{n + 2:03d}", "del-u1", "del-r2", "2025-08-01", "true", SOURCE])
        w.writerow([f"C{n + 3:03d}", "hel-s5", "hel-u1", "2025-06-01", "true", SOURCE])
    with open(HERE / "areas.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["area_id", "name", "country", "lat", "lon", "population", "gdp_usd",
                    "ecosystem_value_usd", "synthetic", "source"])
        w.writerows([list(a) + ["true", SOURCE] for a in AREAS])


if __name__ == "__main__":
    main()
