"""Contract section 1 (input validation) and section 2 (the cut-off).

Every validation rule has a test that copies the example database into a temporary
folder, breaks one cell (named by spreadsheet row and column, header = row 1) and checks
that the message names that file, row and column. The right answers are read off the
edit, not computed by the code under test.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quantumclusters.schema import (
    FILES,
    MAX_LISTED_ROWS,
    Database,
    DataValidationError,
    Problem,
    apply_cutoff,
    load_database,
    parse_cutoff,
    validate_frames,
)

EXAMPLE = Path(__file__).parent / "data" / "example"


# ---------------------------------------------------------------------------------------
# helpers


def read_rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def write_rows(path: Path, rows: list[list[str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def set_cell(folder: Path, file: str, row: int, column: str, value: str) -> str:
    """Set the cell at spreadsheet ``row`` (header = 1) of ``column``; return the old value."""
    rows = read_rows(folder / file)
    col = rows[0].index(column)
    old = rows[row - 1][col]
    rows[row - 1][col] = value
    write_rows(folder / file, rows)
    return old


def get_cell(folder: Path, file: str, row: int, column: str) -> str:
    rows = read_rows(folder / file)
    return rows[row - 1][rows[0].index(column)]


def row_of(folder: Path, file: str, column: str, value: str) -> int:
    """Spreadsheet row of the first row whose ``column`` equals ``value``."""
    rows = read_rows(folder / file)
    col = rows[0].index(column)
    for k, r in enumerate(rows[1:], start=2):
        if r[col] == value:
            return k
    raise AssertionError(f"{value!r} not in {file}:{column}")


def drop_column(folder: Path, file: str, column: str) -> None:
    rows = read_rows(folder / file)
    col = rows[0].index(column)
    write_rows(folder / file, [r[:col] + r[col + 1 :] for r in rows])


def problems_of(folder: Path) -> list[Problem]:
    with pytest.raises(DataValidationError) as info:
        load_database(folder)
    return info.value.problems


def one_problem(folder: Path) -> Problem:
    problems = problems_of(folder)
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


# ---------------------------------------------------------------------------------------
# the example database loads, with the documented dtypes


def test_example_loads_with_converted_dtypes() -> None:
    db = load_database(EXAMPLE)
    assert isinstance(db, Database)
    inst = db.institutions
    assert len(inst) == 41 and len(db.funding) == 15
    assert len(db.collaborations) == 104 and len(db.areas) == 5
    # identifiers are text, exactly as written
    assert "007" in set(inst["institution_id"])
    assert "0042" in set(inst["institution_id"])
    assert pd.api.types.is_string_dtype(inst["institution_id"])
    assert pd.api.types.is_string_dtype(db.funding["institution_id"])
    assert pd.api.types.is_string_dtype(db.collaborations["institution_a"])
    # numbers and dates
    for frame, cols in [
        (inst, ["lat", "lon"]),
        (db.funding, ["amount_usd"]),
        (db.areas, ["lat", "lon", "population", "gdp_usd", "ecosystem_value_usd"]),
    ]:
        for col in cols:
            assert frame[col].dtype == np.float64, col
    assert inst["active_since"].dtype == "datetime64[ns]"
    assert db.funding["date"].dtype == "datetime64[ns]"
    assert db.collaborations["date"].dtype == "datetime64[ns]"
    # Unicode survives; extra columns kept as text
    row = inst.loc[inst["institution_id"] == "007"].iloc[0]
    assert row["name"] == "本源量子"
    assert row["spinout_of"] == "hef-r1"
    assert row["lat"] == pytest.approx(31.8296)
    assert row["active_since"] == pd.Timestamp("2017-09-01")
    for frame in (inst, db.funding, db.collaborations, db.areas):
        assert {"synthetic", "source"} <= set(frame.columns)
        assert set(frame["synthetic"]) == {"true"}
    # empty optional values are missing, not ""
    assert inst.loc[inst["institution_id"] == "hel-u1", "spinout_of"].isna().all()
    assert db.areas.loc[db.areas["area_id"] == "cn-hef", "ecosystem_value_usd"].isna().all()
    assert db.areas.loc[db.areas["area_id"] == "fi-hel", "ecosystem_value_usd"].item() == 5e9


def test_database_is_frozen() -> None:
    db = load_database(EXAMPLE)
    with pytest.raises(AttributeError):
        db.institutions = db.institutions  # type: ignore[misc]


def test_ids_that_look_like_numbers_or_missing_stay_text(db_dir: Path) -> None:
    # '007' must not become 7; 'NA' and 'nan' are ids, not missing values.
    set_cell(db_dir, "institutions.csv", 2, "institution_id", "NA")
    set_cell(db_dir, "institutions.csv", 3, "institution_id", "nan")
    set_cell(db_dir, "institutions.csv", 4, "institution_id", "1e3")
    # keep the references consistent: hel-u1, hel-u2, hel-u3 are used elsewhere
    for file in ("funding.csv", "collaborations.csv", "institutions.csv"):
        text = (db_dir / file).read_text(encoding="utf-8")
        text = text.replace(",hel-u1,", ",NA,").replace(",hel-u2,", ",nan,")
        text = text.replace(",hel-u3,", ",1e3,").replace(",hel-u1\n", ",NA\n")
        text = text.replace(",hel-u2\n", ",nan\n").replace(",hel-u3\n", ",1e3\n")
        (db_dir / file).write_text(text, encoding="utf-8")
    db = load_database(db_dir)
    ids = list(db.institutions["institution_id"][:3])
    assert ids == ["NA", "nan", "1e3"]
    assert "007" in set(db.institutions["institution_id"])


# ---------------------------------------------------------------------------------------
# message format


def test_problem_format_single_row() -> None:
    p = Problem("institutions.csv", (12,), "lat", "value '95.0' is outside [-90, 90]")
    assert str(p) == "institutions.csv, row 12, column lat: value '95.0' is outside [-90, 90]"


def test_problem_format_several_rows_and_whole_file() -> None:
    assert str(Problem("funding.csv", (3, 8), "kind", "x")) == "funding.csv, rows 3, 8, column kind: x"
    assert str(Problem("areas.csv", (), "", "file is empty")) == "areas.csv: file is empty"
    assert str(Problem("areas.csv", (), "lat", "missing")) == "areas.csv, column lat: missing"
    both = Problem("collaborations.csv", (5,), "institution_a, institution_b", "m")
    assert str(both) == "collaborations.csv, row 5, columns institution_a, institution_b: m"


def test_problem_format_caps_long_row_lists() -> None:
    rows = tuple(range(2, 2 + MAX_LISTED_ROWS + 7))
    text = str(Problem("f.csv", rows, "c", "m"))
    assert text.startswith("f.csv, rows 2, 3, 4,")
    assert f"{MAX_LISTED_ROWS + 1} and 7 more rows, column c: m" in text


def test_error_lists_every_problem_one_per_line(db_dir: Path) -> None:
    set_cell(db_dir, "institutions.csv", 5, "lat", "95.0")
    set_cell(db_dir, "funding.csv", 4, "amount_usd", "0")
    set_cell(db_dir, "collaborations.csv", 6, "date", "2025-13-01")
    set_cell(db_dir, "areas.csv", 3, "gdp_usd", "-1")
    with pytest.raises(DataValidationError) as info:
        load_database(db_dir)
    lines = str(info.value).splitlines()
    assert lines == [
        "institutions.csv, row 5, column lat: value '95.0' is outside [-90, 90]",
        "funding.csv, row 4, column amount_usd: value '0' must be greater than 0",
        "collaborations.csv, row 6, column date: value '2025-13-01' is not a valid date "
        "(write ISO YYYY-MM-DD, e.g. 2025-07-31)",
        "areas.csv, row 3, column gdp_usd: value '-1' must be greater than 0",
    ]
    assert len(info.value.problems) == 4


# ---------------------------------------------------------------------------------------
# files and folders


def test_missing_folder(tmp_path: Path) -> None:
    problems = problems_of(tmp_path / "nowhere")
    assert len(problems) == 1
    assert "nowhere" in str(problems[0]) and "does not exist" in str(problems[0])


def test_path_is_a_file(tmp_path: Path) -> None:
    path = tmp_path / "institutions.csv"
    path.write_text("x\n")
    assert "is not a folder" in str(one_problem(path))


def test_missing_file(db_dir: Path) -> None:
    (db_dir / "funding.csv").unlink()
    p = one_problem(db_dir)
    assert p.file == "funding.csv" and "file is missing" in p.message


def test_all_missing_files_reported(db_dir: Path) -> None:
    (db_dir / "funding.csv").unlink()
    (db_dir / "areas.csv").unlink()
    assert {p.file for p in problems_of(db_dir)} == {"funding.csv", "areas.csv"}


@pytest.mark.parametrize("file", list(FILES.values()))
def test_empty_file(db_dir: Path, file: str) -> None:
    (db_dir / file).write_bytes(b"")
    p = one_problem(db_dir)
    assert p.file == file and p.rows == () and "file is empty" in p.message
    assert str(p).startswith(f"{file}: file is empty")


def test_whitespace_only_file_is_empty(db_dir: Path) -> None:
    (db_dir / "areas.csv").write_text("\n\n")
    assert "file is empty" in str(one_problem(db_dir))


def test_header_only_institutions_has_no_rows(db_dir: Path) -> None:
    header = (db_dir / "institutions.csv").read_text(encoding="utf-8").splitlines()[0]
    (db_dir / "institutions.csv").write_text(header + "\n", encoding="utf-8")
    for file in ("funding.csv", "collaborations.csv"):  # keep the references valid
        text = (db_dir / file).read_text(encoding="utf-8").splitlines()[0]
        (db_dir / file).write_text(text + "\n", encoding="utf-8")
    p = one_problem(db_dir)
    assert p.file == "institutions.csv" and "no data rows" in p.message


def test_header_only_funding_and_collaborations_are_allowed(db_dir: Path) -> None:
    for file in ("funding.csv", "collaborations.csv"):
        header = (db_dir / file).read_text(encoding="utf-8").splitlines()[0]
        (db_dir / file).write_text(header + "\n", encoding="utf-8")
    db = load_database(db_dir)
    assert len(db.funding) == 0 and len(db.collaborations) == 0
    assert db.funding["amount_usd"].dtype == np.float64
    assert db.collaborations["date"].dtype == "datetime64[ns]"


def test_file_not_utf8(db_dir: Path) -> None:
    # row 6 of institutions.csv gets a name in Latin-1 ('é' = 0xE9), i.e. line 6 of the file.
    rows = read_rows(db_dir / "institutions.csv")
    rows[5][rows[0].index("name")] = "Université de Test"
    lines = [",".join(r).encode("latin-1" if k == 5 else "utf-8") for k, r in enumerate(rows)]
    (db_dir / "institutions.csv").write_bytes(b"\n".join(lines) + b"\n")
    p = one_problem(db_dir)
    assert p.file == "institutions.csv"
    assert "not UTF-8" in p.message and "line 6" in p.message
    assert "0xe9" in p.message


def test_utf8_with_bom_is_accepted(db_dir: Path) -> None:
    path = db_dir / "institutions.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    db = load_database(db_dir)
    assert "institution_id" in db.institutions.columns


def test_row_with_too_many_fields(db_dir: Path) -> None:
    path = db_dir / "areas.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3] + ",surplus"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    p = one_problem(db_dir)
    assert p.file == "areas.csv" and p.rows == (4,)
    assert "fields" in p.message


# ---------------------------------------------------------------------------------------
# columns


@pytest.mark.parametrize(
    "file, column",
    [
        ("institutions.csv", "lat"),
        ("institutions.csv", "institution_id"),
        ("institutions.csv", "active_since"),
        ("funding.csv", "amount_usd"),
        ("funding.csv", "kind"),
        ("collaborations.csv", "institution_b"),
        ("areas.csv", "gdp_usd"),
    ],
)
def test_missing_column(db_dir: Path, file: str, column: str) -> None:
    drop_column(db_dir, file, column)
    problems = problems_of(db_dir)
    mine = [p for p in problems if p.file == file]
    assert len(mine) == 1
    p = mine[0]
    assert p.column == column and "required column is missing" in p.message
    assert str(p).startswith(f"{file}, column {column}: required column is missing")


def test_missing_optional_columns_are_added_empty(db_dir: Path) -> None:
    drop_column(db_dir, "institutions.csv", "spinout_of")
    drop_column(db_dir, "institutions.csv", "city")
    drop_column(db_dir, "areas.csv", "ecosystem_value_usd")
    db = load_database(db_dir)
    assert db.institutions["spinout_of"].isna().all()
    assert db.areas["ecosystem_value_usd"].isna().all()


def test_header_names_are_trimmed(db_dir: Path) -> None:
    path = db_dir / "areas.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[0] = lines[0].replace("gdp_usd", " gdp_usd ")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert "gdp_usd" in load_database(db_dir).areas.columns


# ---------------------------------------------------------------------------------------
# identifiers


@pytest.mark.parametrize(
    "file, column, row, other",
    [
        ("institutions.csv", "institution_id", 9, 30),
        ("funding.csv", "funding_id", 3, 12),
        ("collaborations.csv", "collaboration_id", 4, 60),
        ("areas.csv", "area_id", 2, 5),
    ],
)
def test_duplicate_id(db_dir: Path, file: str, column: str, row: int, other: int) -> None:
    value = get_cell(db_dir, file, row, column)
    old = set_cell(db_dir, file, other, column, value)
    problems = [p for p in problems_of(db_dir) if "duplicate" in p.message]
    assert len(problems) == 1
    p = problems[0]
    assert (p.file, p.rows, p.column) == (file, (row, other), column)
    assert f"duplicate id '{value}'" in p.message
    assert str(p).startswith(f"{file}, rows {row}, {other}, column {column}: duplicate")
    del old


def test_duplicate_institution_and_the_references_it_breaks(db_dir: Path) -> None:
    # 本源量子's id '007' becomes hef-u1's: a duplicate, and the rows naming '007' now
    # point to an unknown id. Both are reported; nothing else is.
    row = row_of(db_dir, "institutions.csv", "institution_id", "007")
    other = row_of(db_dir, "institutions.csv", "institution_id", "hef-u1")
    set_cell(db_dir, "institutions.csv", row, "institution_id", "hef-u1")
    problems = problems_of(db_dir)
    dup = [p for p in problems if "duplicate" in p.message]
    assert len(dup) == 1 and dup[0].rows == tuple(sorted((row, other)))
    unknown = [p for p in problems if "unknown" in p.message]
    assert unknown and all("'007'" in p.message for p in unknown)
    assert len(problems) == len(dup) + len(unknown)


@pytest.mark.parametrize(
    "file, column, row",
    [
        ("institutions.csv", "institution_id", 7),
        ("institutions.csv", "name", 10),
        ("institutions.csv", "type", 4),
        ("institutions.csv", "lat", 12),
        ("institutions.csv", "country", 20),
        ("institutions.csv", "active_since", 2),
        ("funding.csv", "funding_id", 5),
        ("funding.csv", "kind", 6),
        ("funding.csv", "amount_usd", 7),
        ("collaborations.csv", "date", 8),
        ("areas.csv", "name", 4),
        ("areas.csv", "population", 5),
    ],
)
def test_empty_required_value(db_dir: Path, file: str, column: str, row: int) -> None:
    set_cell(db_dir, file, row, column, "")
    problems = problems_of(db_dir)
    empty = [p for p in problems if "empty" in p.message]
    assert len(empty) == 1, "\n".join(map(str, problems))
    p = empty[0]
    assert (p.file, p.rows, p.column) == (file, (row,), column)
    assert str(p) == f"{file}, row {row}, column {column}: value is empty (it is required)"
    # an empty value is reported as empty, not also as "not a number/date"
    if column not in ("institution_id", "funding_id"):
        assert len(problems) == 1, "\n".join(map(str, problems))


def test_empty_optional_values_are_fine(db_dir: Path) -> None:
    set_cell(db_dir, "institutions.csv", 3, "city", "")
    set_cell(db_dir, "areas.csv", 2, "ecosystem_value_usd", "")
    db = load_database(db_dir)
    assert db.institutions["city"].isna().sum() == 1
    assert db.areas["ecosystem_value_usd"].isna().sum() == 3


# ---------------------------------------------------------------------------------------
# types and ranges


@pytest.mark.parametrize(
    "file, column, row, value",
    [
        ("institutions.csv", "lat", 6, "sixty"),
        ("institutions.csv", "lon", 6, "24,9"),
        ("funding.csv", "amount_usd", 3, "12 million"),
        ("funding.csv", "amount_usd", 4, "1,000,000"),
        ("areas.csv", "population", 3, "many"),
        ("areas.csv", "gdp_usd", 2, "nan"),
        ("areas.csv", "gdp_usd", 4, "inf"),
        ("areas.csv", "ecosystem_value_usd", 2, "n/a"),
    ],
)
def test_bad_number(db_dir: Path, file: str, column: str, row: int, value: str) -> None:
    set_cell(db_dir, file, row, column, value)
    p = one_problem(db_dir)
    assert (p.file, p.rows, p.column) == (file, (row,), column)
    assert f"value '{value}' is not a number" in p.message


@pytest.mark.parametrize(
    "file, column, value, bounds",
    [
        ("institutions.csv", "lat", "95.0", "[-90, 90]"),
        ("institutions.csv", "lat", "-90.5", "[-90, 90]"),
        ("institutions.csv", "lon", "180.01", "[-180, 180]"),
        ("institutions.csv", "lon", "-200", "[-180, 180]"),
        ("areas.csv", "lat", "91", "[-90, 90]"),
        ("areas.csv", "lon", "181", "[-180, 180]"),
    ],
)
def test_coordinate_out_of_range(db_dir: Path, file: str, column: str, value: str, bounds: str) -> None:
    set_cell(db_dir, file, 4, column, value)
    p = one_problem(db_dir)
    assert str(p) == f"{file}, row 4, column {column}: value '{value}' is outside {bounds}"


def test_coordinates_on_the_bounds_are_fine(db_dir: Path) -> None:
    set_cell(db_dir, "institutions.csv", 36, "lat", "-90")
    set_cell(db_dir, "institutions.csv", 37, "lat", "90")
    set_cell(db_dir, "institutions.csv", 38, "lon", "-180")
    set_cell(db_dir, "institutions.csv", 39, "lon", "180")
    load_database(db_dir)


@pytest.mark.parametrize(
    "file, column, value",
    [
        ("funding.csv", "amount_usd", "0"),
        ("funding.csv", "amount_usd", "-5"),
        ("funding.csv", "amount_usd", "-0.01"),
        ("areas.csv", "population", "0"),
        ("areas.csv", "gdp_usd", "-1e9"),
    ],
)
def test_non_positive_amount(db_dir: Path, file: str, column: str, value: str) -> None:
    set_cell(db_dir, file, 3, column, value)
    p = one_problem(db_dir)
    assert str(p) == f"{file}, row 3, column {column}: value '{value}' must be greater than 0"


def test_negative_ecosystem_value(db_dir: Path) -> None:
    set_cell(db_dir, "areas.csv", 2, "ecosystem_value_usd", "-3")
    p = one_problem(db_dir)
    assert (p.rows, p.column) == ((2,), "ecosystem_value_usd") and "negative" in p.message


@pytest.mark.parametrize(
    "value",
    ["2025-13-01", "31/07/2025", "2025-02-30", "2025-7-31", "2025/07/31", "20250731",
     "2025-07-31T00:00", " 2025-07-31", "July 2025", "2025-07"],
)
@pytest.mark.parametrize(
    "file, column, row",
    [
        ("institutions.csv", "active_since", 8),
        ("funding.csv", "date", 5),
        ("collaborations.csv", "date", 11),
    ],
)
def test_malformed_date(db_dir: Path, value: str, file: str, column: str, row: int) -> None:
    set_cell(db_dir, file, row, column, value)
    p = one_problem(db_dir)
    assert (p.file, p.rows, p.column) == (file, (row,), column)
    assert f"value '{value}' is not a valid date" in p.message and "YYYY-MM-DD" in p.message


def test_leap_day_is_a_valid_date(db_dir: Path) -> None:
    set_cell(db_dir, "funding.csv", 5, "date", "2024-02-29")
    assert load_database(db_dir).funding["date"].iloc[3] == pd.Timestamp("2024-02-29")


@pytest.mark.parametrize(
    "file, column, value, allowed",
    [
        ("institutions.csv", "type", "Startup", "university, research_institute, government, startup, corporate"),
        ("institutions.csv", "type", "company", "university, research_institute, government, startup, corporate"),
        ("funding.csv", "kind", "loan", "vc, equity, debt, grant, corporate"),
        ("funding.csv", "kind", "VC", "vc, equity, debt, grant, corporate"),
    ],
)
def test_enum_not_allowed(db_dir: Path, file: str, column: str, value: str, allowed: str) -> None:
    row = 14  # hel-s4 in institutions.csv (a startup without funding), F013 in funding.csv
    set_cell(db_dir, file, row, column, value)
    p = one_problem(db_dir)
    assert str(p) == f"{file}, row {row}, column {column}: value '{value}' is not allowed (allowed: {allowed})"


@pytest.mark.parametrize(
    "file, value, hint",
    [
        ("institutions.csv", "UK", "GB"),
        ("institutions.csv", "fi", "FI"),
        ("institutions.csv", "XX", None),
        ("institutions.csv", "Finland", None),
        ("areas.csv", "EL", "GR"),
        ("areas.csv", "FIN", None),
    ],
)
def test_country_not_iso(db_dir: Path, file: str, value: str, hint: str | None) -> None:
    set_cell(db_dir, file, 3, "country", value)
    p = one_problem(db_dir)
    assert (p.file, p.rows, p.column) == (file, (3,), "country")
    assert f"value '{value}' is not an ISO 3166-1 alpha-2 country code" in p.message
    if hint:
        assert f"did you mean '{hint}'?" in p.message


# ---------------------------------------------------------------------------------------
# references between files


def test_unknown_institution_in_funding(db_dir: Path) -> None:
    set_cell(db_dir, "funding.csv", 9, "institution_id", "hef-s9")
    p = one_problem(db_dir)
    assert str(p) == (
        "funding.csv, row 9, column institution_id: unknown institution id 'hef-s9' "
        "(not in institutions.csv)"
    )


@pytest.mark.parametrize("column", ["institution_a", "institution_b"])
def test_unknown_institution_in_collaborations(db_dir: Path, column: str) -> None:
    set_cell(db_dir, "collaborations.csv", 17, column, "ghost")
    set_cell(db_dir, "collaborations.csv", 40, column, "ghost")
    p = one_problem(db_dir)
    assert str(p) == (
        f"collaborations.csv, rows 17, 40, column {column}: unknown institution id 'ghost' "
        "(not in institutions.csv)"
    )


def test_ids_are_compared_as_text(db_dir: Path) -> None:
    # '7' is not '007'
    set_cell(db_dir, "funding.csv", 8, "institution_id", "7")
    p = one_problem(db_dir)
    assert (p.rows, p.column) == ((8,), "institution_id") and "'7'" in p.message


@pytest.mark.parametrize(
    "institution, kind",
    [("hel-u1", "university"), ("hef-r1", "research_institute"), ("hel-g1", "government")],
)
def test_funding_on_an_institution_that_is_not_startup_or_corporate(
    db_dir: Path, institution: str, kind: str
) -> None:
    set_cell(db_dir, "funding.csv", 2, "institution_id", institution)
    p = one_problem(db_dir)
    assert str(p) == (
        f"funding.csv, row 2, column institution_id: institution '{institution}' is a {kind}; "
        "funding is allowed only on a startup or corporate"
    )


def test_funding_on_startup_and_corporate_is_fine() -> None:
    db = load_database(EXAMPLE)
    types = db.institutions.set_index("institution_id")["type"]
    assert set(types[db.funding["institution_id"]]) == {"startup", "corporate"}


def test_self_collaboration(db_dir: Path) -> None:
    a = get_cell(db_dir, "collaborations.csv", 23, "institution_a")
    set_cell(db_dir, "collaborations.csv", 23, "institution_b", a)
    p = one_problem(db_dir)
    assert str(p) == (
        f"collaborations.csv, row 23, columns institution_a, institution_b: self-collaboration: "
        f"both partners are '{a}' (the two must differ)"
    )


def test_spinout_of_on_a_non_startup(db_dir: Path) -> None:
    row = row_of(db_dir, "institutions.csv", "institution_id", "hel-c2")
    set_cell(db_dir, "institutions.csv", row, "spinout_of", "hel-u1")
    p = one_problem(db_dir)
    assert (p.file, p.rows, p.column) == ("institutions.csv", (row,), "spinout_of")
    assert "only a startup may have a spinout_of" in p.message and "corporate" in p.message


def test_spinout_of_unknown_institution(db_dir: Path) -> None:
    row = row_of(db_dir, "institutions.csv", "institution_id", "hel-s3")
    set_cell(db_dir, "institutions.csv", row, "spinout_of", "hel-u9")
    p = one_problem(db_dir)
    assert str(p) == (
        f"institutions.csv, row {row}, column spinout_of: unknown institution id 'hel-u9' "
        "(not in institutions.csv)"
    )


@pytest.mark.parametrize("parent, kind", [("hel-c1", "corporate"), ("hel-g1", "government"), ("hel-s1", "startup")])
def test_spinout_of_a_non_research_institution(db_dir: Path, parent: str, kind: str) -> None:
    row = row_of(db_dir, "institutions.csv", "institution_id", "hel-s3")
    set_cell(db_dir, "institutions.csv", row, "spinout_of", parent)
    p = one_problem(db_dir)
    assert (p.file, p.rows, p.column) == ("institutions.csv", (row,), "spinout_of")
    assert f"parent institution '{parent}' is a {kind}" in p.message
    assert "university or research_institute" in p.message


def test_invalid_type_is_not_reported_twice(db_dir: Path) -> None:
    # hel-s1 gets a bad type: its funding rows and spinout_of must not add more messages.
    row = row_of(db_dir, "institutions.csv", "institution_id", "hel-s1")
    set_cell(db_dir, "institutions.csv", row, "type", "Startup")
    p = one_problem(db_dir)
    assert p.column == "type"


# ---------------------------------------------------------------------------------------
# grouping of repetitive problems


def test_same_value_on_many_rows_is_one_problem(db_dir: Path) -> None:
    rows = read_rows(db_dir / "collaborations.csv")
    col = rows[0].index("date")
    for r in rows[1:31]:  # data rows 2..31
        r[col] = "31/07/2025"
    write_rows(db_dir / "collaborations.csv", rows)
    p = one_problem(db_dir)
    assert p.rows == tuple(range(2, 32))
    assert str(p).startswith(
        "collaborations.csv, rows 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, "
        "19, 20, 21 and 10 more rows, column date: value '31/07/2025' is not a valid date"
    )


def test_many_distinct_bad_values_are_all_accounted_for(db_dir: Path) -> None:
    rows = read_rows(db_dir / "collaborations.csv")
    col = rows[0].index("date")
    for k, r in enumerate(rows[1:31]):  # 30 distinct bad dates on rows 2..31
        r[col] = f"2025-13-{k + 1:02d}"
    write_rows(db_dir / "collaborations.csv", rows)
    problems = problems_of(db_dir)
    assert len(problems) == MAX_LISTED_ROWS + 1
    listed = [p.rows for p in problems[:MAX_LISTED_ROWS]]
    assert listed == [(k,) for k in range(2, 2 + MAX_LISTED_ROWS)]
    last = problems[-1]
    assert last.rows == tuple(range(2 + MAX_LISTED_ROWS, 32))
    assert "10 further distinct values are not valid ISO YYYY-MM-DD dates" in last.message
    # every offending row is named somewhere
    assert sorted(r for p in problems for r in p.rows) == list(range(2, 32))


def test_problems_are_in_file_then_row_order(db_dir: Path) -> None:
    set_cell(db_dir, "areas.csv", 2, "lat", "95")
    set_cell(db_dir, "institutions.csv", 30, "lat", "95")
    set_cell(db_dir, "institutions.csv", 3, "lon", "195")
    problems = problems_of(db_dir)
    assert [(p.file, p.rows) for p in problems] == [
        ("institutions.csv", (3,)),
        ("institutions.csv", (30,)),
        ("areas.csv", (2,)),
    ]


# ---------------------------------------------------------------------------------------
# validate_frames on frames built in memory


def test_validate_frames_accepts_text_frames() -> None:
    frames = {
        table: pd.read_csv(EXAMPLE / file, dtype=str, keep_default_na=False)
        for table, file in FILES.items()
    }
    db = validate_frames(frames)
    assert len(db.institutions) == 41
    # the input frames are not modified
    assert frames["institutions"]["lat"].dtype != np.float64


# ---------------------------------------------------------------------------------------
# the cut-off (contract section 2): inclusive on the day


def test_cutoff_on_the_example() -> None:
    db = load_database(EXAMPLE)
    counted = apply_cutoff(db, "2025-07-31")
    # hel-s5 starts 2025-09-15: not counted; its funding (F006) and collaboration (C104) go.
    assert len(counted.institutions) == 40
    assert "hel-s5" not in set(counted.institutions["institution_id"])
    assert set(db.funding["funding_id"]) - set(counted.funding["funding_id"]) == {"F006", "F015"}
    assert set(db.collaborations["collaboration_id"]) - set(
        counted.collaborations["collaboration_id"]
    ) == {"C103", "C104"}
    assert "F014" in set(counted.funding["funding_id"])  # dated on the cut-off day
    assert "C102" in set(counted.collaborations["collaboration_id"])  # on the day
    assert counted.areas.equals(db.areas)
    assert list(counted.institutions.index) == list(range(40))


def _tiny(active_b: str = "2020-01-01") -> Database:
    return validate_frames(
        {
            "institutions": pd.DataFrame(
                {
                    "institution_id": ["a", "b", "c"],
                    "name": ["A", "B", "C"],
                    "type": ["startup", "startup", "university"],
                    "lat": ["60", "60", "60"],
                    "lon": ["25", "25", "25"],
                    "city": ["", "", ""],
                    "country": ["FI", "FI", "FI"],
                    "active_since": ["2020-01-01", active_b, "2020-01-01"],
                    "spinout_of": ["", "", ""],
                }
            ),
            "funding": pd.DataFrame(
                {
                    "funding_id": ["f1", "f2", "f3"],
                    "institution_id": ["a", "a", "b"],
                    "date": ["2025-07-31", "2025-08-01", "2021-01-01"],
                    "amount_usd": ["1", "2", "3"],
                    "kind": ["vc", "vc", "vc"],
                }
            ),
            "collaborations": pd.DataFrame(
                {
                    "collaboration_id": ["k1", "k2", "k3", "k4"],
                    "institution_a": ["a", "a", "a", "c"],
                    "institution_b": ["c", "c", "b", "b"],
                    "date": ["2025-07-31", "2025-08-01", "2022-01-01", "2022-01-01"],
                }
            ),
            "areas": pd.DataFrame(
                {
                    "area_id": ["x"],
                    "name": ["X"],
                    "country": ["FI"],
                    "lat": ["60"],
                    "lon": ["25"],
                    "population": ["1"],
                    "gdp_usd": ["1"],
                }
            ),
        }
    )


def _ids(frame: pd.DataFrame, column: str) -> list[str]:
    return sorted(frame[column])


def test_cutoff_institution_inclusive_on_the_day() -> None:
    db = _tiny(active_b="2025-07-31")
    assert "b" in _ids(apply_cutoff(db, "2025-07-31").institutions, "institution_id")
    assert "b" not in _ids(apply_cutoff(db, "2025-07-30").institutions, "institution_id")


def test_cutoff_funding_inclusive_on_the_day() -> None:
    db = _tiny()
    assert _ids(apply_cutoff(db, "2025-07-31").funding, "funding_id") == ["f1", "f3"]
    assert _ids(apply_cutoff(db, "2025-08-01").funding, "funding_id") == ["f1", "f2", "f3"]
    assert _ids(apply_cutoff(db, "2025-07-30").funding, "funding_id") == ["f3"]


def test_cutoff_collaboration_inclusive_on_the_day() -> None:
    db = _tiny()
    assert _ids(apply_cutoff(db, "2025-07-31").collaborations, "collaboration_id") == ["k1", "k3", "k4"]
    assert _ids(apply_cutoff(db, "2025-07-30").collaborations, "collaboration_id") == ["k3", "k4"]


def test_cutoff_drops_rows_of_institutions_not_yet_active() -> None:
    db = _tiny(active_b="2023-01-01")
    counted = apply_cutoff(db, "2022-06-30")
    assert _ids(counted.institutions, "institution_id") == ["a", "c"]
    # f3 (2021) belongs to b, which is not active yet: dropped with it
    assert _ids(counted.funding, "funding_id") == []
    # k3 (a-b) and k4 (c-b) have a partner that does not count
    assert _ids(counted.collaborations, "collaboration_id") == []
    counted = apply_cutoff(db, "2023-01-01")
    assert _ids(counted.funding, "funding_id") == ["f3"]
    assert _ids(counted.collaborations, "collaboration_id") == ["k3", "k4"]


@pytest.mark.parametrize(
    "value",
    ["2025-07-31", dt.date(2025, 7, 31), dt.datetime(2025, 7, 31, 18, 30), pd.Timestamp("2025-07-31 12:00")],
)
def test_cutoff_accepts_dates_strings_and_timestamps(value: object) -> None:
    assert parse_cutoff(value) == pd.Timestamp("2025-07-31")  # type: ignore[arg-type]
    db = _tiny()
    assert _ids(apply_cutoff(db, value).funding, "funding_id") == ["f1", "f3"]  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["31/07/2025", "2025-13-01", "2025-02-30", "2025-7-31", "yesterday", ""])
def test_bad_cutoff_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="cut-off"):
        parse_cutoff(value)


# ---------------------------------------------------------------------------------------
# blank lines keep spreadsheet row numbers


def test_blank_line_inside_a_file_is_reported_and_rows_keep_their_numbers(db_dir: Path) -> None:
    path = db_dir / "funding.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.insert(3, "")  # becomes row 4; the old row 4 becomes row 5
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    set_cell(db_dir, "funding.csv", 7, "amount_usd", "-1")
    problems = problems_of(db_dir)
    assert [str(p) for p in problems] == [
        "funding.csv, row 4: row is blank (delete the empty line)",
        "funding.csv, row 7, column amount_usd: value '-1' must be greater than 0",
    ]


def test_blank_lines_at_the_end_are_refused_with_their_rows(db_dir: Path) -> None:
    # Nothing is dropped silently: blank lines at the end are refused like any other
    # blank line, with their row numbers (the file has 104 data rows: rows 2-105).
    path = db_dir / "collaborations.csv"
    path.write_text(path.read_text(encoding="utf-8") + "\n\n,,,,,\n", encoding="utf-8")
    assert [str(p) for p in problems_of(db_dir)] == [
        "collaborations.csv, rows 106, 107, 108: row is blank: the file ends with 3 blank "
        "lines (delete them)",
    ]


def test_one_blank_line_at_the_end_is_refused(db_dir: Path) -> None:
    path = db_dir / "areas.csv"
    n_rows = len(read_rows(path))  # header included: the blank line is row n_rows + 1
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert [str(p) for p in problems_of(db_dir)] == [
        f"areas.csv, row {n_rows + 1}: row is blank: the file ends with a blank line (delete it)",
    ]


def test_blank_lines_inside_and_at_the_end_are_told_apart(db_dir: Path) -> None:
    path = db_dir / "funding.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.insert(2, "")  # row 3
    path.write_text("\n".join(lines) + "\n\n", encoding="utf-8")
    last = len(lines) + 1  # the trailing blank line
    assert [str(p) for p in problems_of(db_dir)] == [
        "funding.csv, row 3: row is blank (delete the empty line)",
        f"funding.csv, row {last}: row is blank: the file ends with a blank line (delete it)",
    ]


@pytest.mark.parametrize("value", ["1500-01-01", "2300-12-31"])
def test_date_outside_the_supported_range(db_dir: Path, value: str) -> None:
    set_cell(db_dir, "institutions.csv", 8, "active_since", value)
    p = one_problem(db_dir)
    assert (p.rows, p.column) == ((8,), "active_since")
    assert p.message == f"value '{value}' is outside the supported dates 1677-09-22 to 2262-04-11"


def test_missing_file_with_a_near_miss_name_gets_a_hint(db_dir: Path) -> None:
    (db_dir / "areas.csv").rename(db_dir / "Areas.csv")
    p = one_problem(db_dir)
    assert p.file == "areas.csv" and "found Areas.csv: rename it to areas.csv" in p.message


# ---------------------------------------------------------------------------------------
# the loader's identifier machinery against plain Python


def _random_ids(rng: np.random.Generator, n: int, alphabet: list[str], max_len: int) -> list[str]:
    return ["".join(rng.choice(alphabet, int(rng.integers(0, max_len + 1)))) for _ in range(n)]


@pytest.mark.parametrize("dtype", ["str", "object"])
@pytest.mark.parametrize("seed", range(12))
def test_id_join_and_uniqueness_agree_with_python(seed: int, dtype: str) -> None:
    # Short and long ids (one 64-bit word and several), empty ids, NUL bytes, non-ASCII,
    # missing values, duplicates, and references to ids that do not exist; Arrow-backed
    # text (``str`` with pyarrow installed: the keyed join) and Python strings.
    from quantumclusters.schema import _all_distinct, _join_ids

    rng = np.random.default_rng(seed)
    alphabet = ["a", "b", "0", "1"] + (["\x00", "é", "量"] if seed % 3 == 0 else [])
    max_len = [3, 8, 9, 30][seed % 4]
    ids = list(dict.fromkeys(_random_ids(rng, 300, alphabet, max_len)))
    if seed % 2:
        ids.append(ids[0])  # a duplicated id: references go to its first row
    refs = [rng.choice(ids + _random_ids(rng, 20, alphabet, max_len), size) for size in (50, 400, 400)]
    series = [pd.Series(r.tolist(), dtype=dtype) for r in refs]
    series[0] = series[0].where(rng.random(50) < 0.7)  # missing values (spinout_of)
    got = _join_ids(pd.Series(ids, dtype=dtype), series)
    first = {}
    for row, value in enumerate(ids):
        first.setdefault(value, row)
    for s, rows in zip(series, got):
        expected = [first.get(v, -1) if isinstance(v, str) else -1 for v in s.tolist()]
        assert rows.tolist() == expected
    for values in (ids, refs[1].tolist()):
        assert _all_distinct(pd.Series(values, dtype=dtype)) == (len(set(values)) == len(values))


# ---------------------------------------------------------------------------------------
# the columnar reader reads exactly what pandas' reader reads

_TRICKY_FILES = {
    "bom and quoted newline": '\ufeffinstitution_id,name,city\n007,"Line one\nline two",\nNA,nan,""\n',
    "crlf and commas only": "a,b,c\r\n1,2,3\r\n,,\r\n4, 5 ,6\r\n",
    "unicode and quotes": 'id,name\n本源,"本源量子 ""Origin"""\n0.10,1e5\n',
    "blank line inside and at the end": "a,b\n1,2\n\n3,4\n\n",
    "no final newline": "a,b\n1,2\n3,4",
    "header only": "a,b,c\n",
    "spaces in the header": " a , b\n1,2\n",
}


@pytest.mark.parametrize("name", sorted(_TRICKY_FILES))
def test_columnar_reader_reads_what_pandas_reads(tmp_path: Path, name: str) -> None:
    pytest.importorskip("pyarrow")
    from quantumclusters.schema import _read_csv, _read_csv_arrow, _read_csv_careful

    path = tmp_path / "t.csv"
    path.write_bytes(_TRICKY_FILES[name].encode("utf-8"))
    fast = _read_csv_arrow(path)
    assert fast is not None  # read by the columnar reader, not handed over
    careful = _read_csv_careful(path, "t.csv", [])
    assert list(fast.columns) == list(careful.columns)
    assert fast.astype(object).values.tolist() == careful.astype(object).values.tolist()
    problems: list[Problem] = []
    assert list(_read_csv(path, "t.csv", problems).columns) == [c.strip() for c in careful.columns]


@pytest.mark.parametrize(
    "content",
    [
        b"a,b\n1,2,3\n",  # too many fields: the careful reader names the line
        b"a,b\n1\n",  # too few
        b"a,b\n1,\xff\n",  # not UTF-8
        b"a,a\n1,2\n",  # repeated column name (pandas renames it)
        b"a,,b\n1,2,3\n",  # empty column name
        b"",  # empty file
    ],
)
def test_files_the_columnar_reader_cannot_read_exactly_go_to_the_careful_one(tmp_path: Path, content: bytes) -> None:
    pytest.importorskip("pyarrow")
    from quantumclusters.schema import _read_csv_arrow

    path = tmp_path / "t.csv"
    path.write_bytes(content)
    assert _read_csv_arrow(path) is None
