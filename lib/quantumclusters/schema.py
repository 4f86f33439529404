"""Load a database folder and check it against the data contract (CONTRACT.md section 1).

A database is a folder of four UTF-8 CSV files with a header row: ``institutions.csv``,
``funding.csv``, ``collaborations.csv`` and ``areas.csv``. :func:`load_database` reads every
column as text first (so the identifier ``007`` stays ``007``), checks every rule of the
contract, collects *all* problems and raises one :class:`DataValidationError` listing them, or
returns a :class:`Database` of converted frames. Nothing is dropped or repaired silently.

Row numbers in messages are spreadsheet row numbers: the header is row 1, so the first data
row is row 2 (this is the row a reader sees when opening the file in a spreadsheet). A blank
line is a row like any other, so it keeps the numbering, and it is refused wherever it is,
at the end of the file too.

Files are read by pyarrow's columnar reader (every column as text), or by pandas' C reader
when pyarrow is missing or cannot read a file exactly as pandas would; every institution
reference is then resolved by one vectorised join, and the resolved rows are kept with the
database (:class:`Links`) so that the engine does not look the ids up again.

Converted frames (what the rest of the package relies on):

* identifiers and other text columns: pandas ``str`` dtype, exactly as written in the file;
* ``lat``, ``lon``, ``amount_usd``, ``population``, ``gdp_usd``, ``ecosystem_value_usd``:
  ``float64``;
* ``active_since`` and ``date``: ``datetime64[ns]``;
* optional text columns that are empty (``city``, ``spinout_of``) hold a missing value
  (``NaN``), so ``spinout_of.notna()`` selects the spin-outs; an empty
  ``ecosystem_value_usd`` is ``NaN``;
* extra columns (for example ``synthetic`` and ``source``) are kept as text, unchanged.

The optional columns ``city``, ``spinout_of`` and ``ecosystem_value_usd`` may also be left
out of the file altogether; they are then added as empty columns.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pycountry

try:  # the columnar reader (requirements.txt); without it pandas' C reader is used
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pa_csv
except ImportError:  # pragma: no cover - pyarrow is a requirement
    pa = pc = pa_csv = None

__all__ = [
    "FILES",
    "INSTITUTION_TYPES",
    "FUNDING_KINDS",
    "DISCLOSED_FUNDING_KINDS",
    "RESEARCH_TYPES",
    "INDUSTRY_TYPES",
    "FUNDED_TYPES",
    "DEFAULT_DRAWS",
    "DEFAULT_SEED",
    "REQUIRED_COLUMNS",
    "OPTIONAL_COLUMNS",
    "Database",
    "Links",
    "Problem",
    "DataValidationError",
    "load_database",
    "read_tables",
    "validate_frames",
    "apply_cutoff",
    "parse_cutoff",
    "MAX_LISTED_ROWS",
]

#: The four files of a database, by table name.
FILES: dict[str, str] = {
    "institutions": "institutions.csv",
    "funding": "funding.csv",
    "collaborations": "collaborations.csv",
    "areas": "areas.csv",
}

INSTITUTION_TYPES: tuple[str, ...] = (
    "university",
    "research_institute",
    "government",
    "startup",
    "corporate",
)
FUNDING_KINDS: tuple[str, ...] = ("vc", "equity", "debt", "grant", "corporate")
#: Funding kinds that count as a startup's disclosed funding (contract section 4, step 5).
DISCLOSED_FUNDING_KINDS: tuple[str, ...] = ("vc", "equity", "debt")
#: Institution types that count as research institutions.
RESEARCH_TYPES: tuple[str, ...] = ("university", "research_institute")
#: Institution types that count as industry.
INDUSTRY_TYPES: tuple[str, ...] = ("startup", "corporate")
#: Institution types that may receive funding rows.
FUNDED_TYPES: tuple[str, ...] = INDUSTRY_TYPES
#: Monte Carlo weight draws of the robustness check (the paper's 5,000) and their seed:
#: the defaults of every run, of the command line and of the book.
DEFAULT_DRAWS: int = 5000
DEFAULT_SEED: int = 20250731

#: Columns every file must have (in the contract's order).
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "institutions": ("institution_id", "name", "type", "lat", "lon", "country", "active_since"),
    "funding": ("funding_id", "institution_id", "date", "amount_usd", "kind"),
    "collaborations": ("collaboration_id", "institution_a", "institution_b", "date"),
    "areas": ("area_id", "name", "country", "lat", "lon", "population", "gdp_usd"),
}
#: Columns that may be absent or empty; an absent one is added empty.
OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "institutions": ("city", "spinout_of"),
    "funding": (),
    "collaborations": (),
    "areas": ("ecosystem_value_usd",),
}

#: A problem lists at most this many rows (the rest are counted: "and N more rows"), and
#: one rule on one column gives at most this many separate messages before the remaining
#: offending rows are summarised in one further message.
MAX_LISTED_ROWS = 20

_FLOAT_COLUMNS = {
    "institutions": ("lat", "lon"),
    "funding": ("amount_usd",),
    "collaborations": (),
    "areas": ("lat", "lon", "population", "gdp_usd", "ecosystem_value_usd"),
}
_DATE_COLUMNS = {
    "institutions": ("active_since",),
    "funding": ("date",),
    "collaborations": ("date",),
    "areas": (),
}
_ID_COLUMN = {
    "institutions": "institution_id",
    "funding": "funding_id",
    "collaborations": "collaboration_id",
    "areas": "area_id",
}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_COUNTRY_CODES: frozenset[str] = frozenset(c.alpha_2 for c in pycountry.countries)
# Common non-ISO spellings and the code meant.
_COUNTRY_HINTS = {"UK": "GB", "EL": "GR", "USA": "US", "UAE": "AE"}
_TS_MIN = pd.Timestamp.min.ceil("D")
_TS_MAX = pd.Timestamp.max.floor("D")


@dataclass(frozen=True)
class Links:
    """The institution references of a database, resolved once by the loader.

    ``fund``, ``coll_a`` and ``coll_b`` hold, for each row of ``funding`` and of
    ``collaborations``, the row of ``institutions`` its ``institution_id`` /
    ``institution_a`` / ``institution_b`` names (int64; ``-1`` for none).
    :func:`quantumclusters.detection.encode` reuses them instead of hashing the millions of
    string ids again. ``tables`` are the three frames the rows refer to: the links hold
    for a :class:`Database` only while it holds these very frames (:meth:`fits`).
    """

    fund: np.ndarray
    coll_a: np.ndarray
    coll_b: np.ndarray
    tables: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]

    def fits(self, db: "Database") -> bool:
        """Whether ``db`` holds the institutions, funding and collaborations frames these
        links were made for (the same objects, not equal copies)."""
        inst, fund, coll = self.tables
        return db.institutions is inst and db.funding is fund and db.collaborations is coll


@dataclass(frozen=True)
class Database:
    """The four tables of a validated database (see the module docstring for dtypes).

    Instances are produced by :func:`load_database` (or :func:`apply_cutoff`); the frames
    have a fresh ``RangeIndex`` in file order. ``links`` (set by the loader and kept by
    :func:`apply_cutoff`) are the resolved institution references, see :class:`Links`; a
    database built by hand has none, and the engine then resolves the ids itself.
    """

    institutions: pd.DataFrame
    funding: pd.DataFrame
    collaborations: pd.DataFrame
    areas: pd.DataFrame
    links: Links | None = dataclasses.field(default=None, repr=False, compare=False)

    def fitting_links(self) -> Links | None:
        """:attr:`links` if they belong to this database's frames, else None."""
        return self.links if self.links is not None and self.links.fits(self) else None


@dataclass(frozen=True)
class Problem:
    """One way in which a database breaks the contract.

    ``rows`` are spreadsheet row numbers (header = row 1, first data row = row 2); empty
    when the problem concerns the whole file or a whole column. ``column`` is empty when
    the problem concerns the whole file; it may name two columns (``"institution_a,
    institution_b"``).
    """

    file: str
    rows: tuple[int, ...]
    column: str
    message: str

    def __str__(self) -> str:
        parts = [self.file]
        if self.rows:
            parts.append(_format_rows(self.rows))
        if self.column:
            label = "columns" if "," in self.column else "column"
            parts.append(f"{label} {self.column}")
        return ", ".join(parts) + ": " + self.message


class DataValidationError(ValueError):
    """The database breaks the contract; ``problems`` lists every problem found.

    ``str(error)`` is one line per problem, e.g.
    ``institutions.csv, row 12, column lat: value '95.0' is outside [-90, 90]``.
    """

    def __init__(self, problems: Iterable[Problem]):
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


def _format_rows(rows: Sequence[int]) -> str:
    if len(rows) == 1:
        return f"row {rows[0]}"
    shown = ", ".join(str(r) for r in rows[:MAX_LISTED_ROWS])
    if len(rows) > MAX_LISTED_ROWS:
        shown += f" and {len(rows) - MAX_LISTED_ROWS} more rows"
    return f"rows {shown}"


# ---------------------------------------------------------------------------------------
# reading


def _line_of_offset(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


def _read_csv(path: Path, file: str, problems: list[Problem]) -> pd.DataFrame | None:
    """Read one CSV as text; on failure append a problem and return None.

    The columnar reader (:func:`_read_csv_arrow`) reads a well-formed file; a file it does
    not read exactly as pandas would (a parse error, bad UTF-8, an odd header) is read
    again by :func:`_read_csv_careful`, whose messages name the line."""
    if not path.exists():
        similar = sorted(
            p.name
            for p in path.parent.iterdir()
            if p.name != file and p.name.lower().replace(" ", "") in (file, file + ".csv",
                                                                        file[:-4] + ".txt")
        )
        hint = f"; found {', '.join(similar)}: rename it to {file}" if similar else ""
        problems.append(Problem(file, (), "", f"file is missing (expected {path}){hint}"))
        return None
    if not path.is_file():
        problems.append(Problem(file, (), "", f"{path} is not a file"))
        return None
    frame = _read_csv_arrow(path)
    if frame is None:
        frame = _read_csv_careful(path, file, problems)
    if frame is not None:
        frame.columns = [str(c).strip() for c in frame.columns]
    return frame


#: Arrow text columns as pandas' ``str`` dtype (missing value NaN), as ``read_csv`` gives.
_ARROW_STR = pd.StringDtype("pyarrow", na_value=np.nan) if pa is not None else None


def _read_csv_arrow(path: Path) -> pd.DataFrame | None:
    """Read a CSV with pyarrow's multithreaded reader, every column as text.

    Returns the frame pandas' reader would give (``str`` columns, empty cells ``""``,
    quoted newlines kept, a UTF-8 BOM dropped, blank lines kept as all-empty rows so that
    row numbers stay spreadsheet row numbers), or None when pyarrow is missing or the file
    needs the careful reader: it cannot be parsed, is not UTF-8, or its header has an empty
    or repeated column name (which pandas renames).
    """
    if pa_csv is None:
        return None
    parse = pa_csv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False)
    try:
        with pa_csv.open_csv(path, read_options=pa_csv.ReadOptions(block_size=1 << 16), parse_options=parse) as head:
            names = head.schema.names
        if len(set(names)) != len(names) or any(not n.strip() for n in names):
            return None
        table = pa_csv.read_csv(
            path,
            read_options=pa_csv.ReadOptions(block_size=1 << 24),
            parse_options=parse,
            convert_options=pa_csv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowException, OSError, UnicodeDecodeError):
        return None
    return table.to_pandas(types_mapper={pa.string(): _ARROW_STR, pa.large_string(): _ARROW_STR}.get)


def _read_csv_careful(path: Path, file: str, problems: list[Problem]) -> pd.DataFrame | None:
    """pandas' C reader: slower, but its errors locate the line (see :func:`_read_csv`)."""
    try:
        frame = pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            encoding="utf-8-sig",
            skipinitialspace=False,
            # Keep blank lines so that row numbers stay spreadsheet row numbers; they are
            # reported by the checks, wherever they are.
            skip_blank_lines=False,
        )
    except UnicodeDecodeError as error:
        raw = path.read_bytes()
        # Locate the first undecodable byte in the file itself (pandas reads in chunks).
        try:
            raw.decode("utf-8")
            where = ""
        except UnicodeDecodeError as exact:
            line = _line_of_offset(raw, exact.start)
            where = f" at line {line} (byte {exact.start + 1}, 0x{raw[exact.start]:02x})"
        del error
        problems.append(
            Problem(
                file,
                (),
                "",
                f"file is not UTF-8{where}; save it as UTF-8 "
                "(in a spreadsheet: 'CSV UTF-8')",
            )
        )
        return None
    except pd.errors.EmptyDataError:
        problems.append(
            Problem(file, (), "", "file is empty (it needs at least a header row)")
        )
        return None
    except pd.errors.ParserError as error:
        text = str(error).strip()
        match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
        if match:
            expected, line, saw = match.groups()
            problems.append(
                Problem(
                    file,
                    (int(line),),
                    "",
                    f"has {saw} fields but the header has {expected} "
                    "(a comma inside a value must be quoted)",
                )
            )
        else:
            problems.append(Problem(file, (), "", f"cannot be read as CSV: {text}"))
        return None
    except OSError as error:
        problems.append(Problem(file, (), "", f"cannot be read: {error}"))
        return None
    return frame


# ---------------------------------------------------------------------------------------
# helpers that turn a boolean mask into grouped problems


def _rows_of(mask: np.ndarray) -> np.ndarray:
    return np.flatnonzero(mask) + 2


def _problems_by_value(
    file: str,
    column: str,
    values: pd.Series | pd.DataFrame,
    mask: np.ndarray | pd.Series,
    describe: Callable[..., str],
    problems: list[Problem],
    summary: str,
) -> None:
    """One problem per distinct offending value (rows grouped), first values first.

    ``values`` is a Series, or a DataFrame whose columns are passed to ``describe`` as
    separate arguments. At most ``MAX_LISTED_ROWS`` distinct values get their own message;
    the remaining offending rows are reported together in one more message ending with
    ``summary``.
    """
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return
    positions = np.flatnonzero(mask)
    if isinstance(values, pd.DataFrame):
        bad = pd.MultiIndex.from_frame(values.iloc[positions].astype(str))
        codes, uniques = bad.factorize()
        keys: list[tuple[str, ...]] = [tuple(map(str, u)) for u in uniques[:MAX_LISTED_ROWS]]
    else:
        codes, uniques = pd.factorize(values.iloc[positions], use_na_sentinel=False)
        keys = [(str(u),) for u in uniques[:MAX_LISTED_ROWS]]
    rows = positions + 2
    for i, key in enumerate(keys):
        rows_i = tuple(int(r) for r in rows[codes == i])
        problems.append(Problem(file, rows_i, column, describe(*key)))
    if len(uniques) > MAX_LISTED_ROWS:
        rest = rows[codes >= MAX_LISTED_ROWS]
        problems.append(
            Problem(
                file,
                tuple(int(r) for r in rest),
                column,
                f"{len(uniques) - MAX_LISTED_ROWS} further distinct values {summary}",
            )
        )


def _problem_rows(
    file: str, column: str, mask: np.ndarray | pd.Series, message: str, problems: list[Problem]
) -> None:
    mask = np.asarray(mask, dtype=bool)
    if mask.any():
        problems.append(Problem(file, tuple(int(r) for r in _rows_of(mask)), column, message))


def _obj(values: pd.Series) -> np.ndarray:
    """The values as a NumPy object array (a copy for Arrow-backed text): for small
    columns, and for the offending values only of large ones."""
    return values.to_numpy(dtype=object)


def _empty(values: pd.Series) -> np.ndarray:
    """Whether each value is the empty text ``""`` (vectorised for either storage)."""
    return np.asarray(values == "", dtype=bool)


def _arrow(values: pd.Series | pd.Index) -> "pa.ChunkedArray | pa.Array | None":
    """The Arrow array behind an Arrow-backed text column (no copy), else None."""
    if pa is None or getattr(values.dtype, "storage", None) != "pyarrow":
        return None
    return pa.array(values)


def _q(value: str) -> str:
    return "'" + value.replace("'", "\\'") + "'"


def _allowed(values: Sequence[str]) -> str:
    return ", ".join(values)


# ---------------------------------------------------------------------------------------
# column rules


def _blank_rows(frame: pd.DataFrame) -> np.ndarray:
    """Rows whose every value is empty (a blank line, or only commas)."""
    blank = np.ones(len(frame), dtype=bool)
    for column in frame.columns:
        blank &= _empty(frame[column])
        if not blank.any():
            break
    return blank


def _check_blank_rows(file: str, frame: pd.DataFrame, problems: list[Problem]) -> np.ndarray:
    """Report blank rows, inside the file or at its end (data/README.md: a blank line is
    refused wherever it is, with its row number); return the mask of blank rows."""
    blank = _blank_rows(frame)
    if blank.any():
        rows = _rows_of(blank)
        trailing = _trailing_count(blank)
        inner = blank.copy()
        inner[len(blank) - trailing :] = False
        _problem_rows(file, "", inner, "row is blank (delete the empty line)", problems)
        if trailing:
            problems.append(
                Problem(
                    file,
                    tuple(int(r) for r in rows[-trailing:]),
                    "",
                    "row is blank: the file ends with "
                    + ("a blank line" if trailing == 1 else f"{trailing} blank lines")
                    + " (delete "
                    + ("it" if trailing == 1 else "them")
                    + ")",
                )
            )
    return blank


def _trailing_count(blank: np.ndarray) -> int:
    """How many rows at the end of ``blank`` are True."""
    filled = np.flatnonzero(~blank)
    return len(blank) - (int(filled[-1]) + 1) if len(filled) else len(blank)


def _check_required_present(
    file: str,
    frame: pd.DataFrame,
    columns: Sequence[str],
    problems: list[Problem],
    not_blank: np.ndarray,
) -> None:
    for column in columns:
        if column in frame.columns:
            values = frame[column]
            _problem_rows(
                file,
                column,
                _empty(values) & not_blank,
                "value is empty (it is required)",
                problems,
            )


def _all_distinct(values: pd.Series) -> bool:
    """Whether no value occurs twice."""
    keys = _TextKeys.of(values)
    if keys is not None:
        ordered = np.sort(keys.key)
        if not len(ordered) or bool((ordered[1:] != ordered[:-1]).all()):
            return True  # distinct keys: distinct values (equal values have equal keys)
        if keys.exact:
            return False
    arrow = _arrow(values)
    if arrow is not None:
        return pc.count_distinct(arrow, mode="all").as_py() == len(values)
    return len(set(values.to_numpy(dtype=object))) == len(values)


#: Byte masks keeping the first 0..8 bytes of a little-endian 64-bit word.
_BYTE_MASKS = np.array([(1 << (8 * r)) - 1 for r in range(8)] + [2**64 - 1], dtype=np.uint64)
#: Text longer than this (bytes) is not keyed (:class:`_TextKeys`).
_MAX_KEYED_BYTES = 256


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser (in place, wrapping uint64 arithmetic)."""
    h ^= h >> np.uint64(30)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(27)
    h *= np.uint64(0x94D049BB133111EB)
    h ^= h >> np.uint64(31)
    return h


@dataclass(frozen=True)
class _TextKeys:
    """A uint64 key per value of an Arrow-backed text column, read from Arrow's buffers
    without making Python strings: equal values have equal keys.

    ``words`` holds each value's UTF-8 bytes as little-endian 64-bit words, zero-padded,
    ``length`` its byte length. When every value fits one word and no value holds a NUL
    byte (``exact``), :attr:`key` is that word, and distinct values have distinct keys;
    otherwise it is :meth:`hashed` and a match must be confirmed with :meth:`same`.
    ``valid`` is False for a missing value (its key means nothing).
    """

    words: np.ndarray  # (n, w) uint64
    length: np.ndarray  # int64
    valid: np.ndarray  # bool
    exact: bool

    @property
    def key(self) -> np.ndarray:
        """The word itself when ``exact``, else :meth:`hashed`."""
        return self.words[:, 0] if self.exact else self.hashed()

    def hashed(self) -> np.ndarray:
        """A 64-bit hash of each value's length and own words (the same for a value
        whatever the longest value of its column)."""
        own = np.maximum(1, (self.length + 7) // 8)
        key = _mix(self.length.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15))
        for j in range(self.words.shape[1]):
            step = _mix(key ^ self.words[:, j])
            key = np.where(j < own, step, key)
        return key

    @classmethod
    def of(cls, values: pd.Series) -> "_TextKeys | None":
        """Keys of ``values``, or None when it is not Arrow-backed text or a value is longer
        than :data:`_MAX_KEYED_BYTES` bytes."""
        arrow = _arrow(values)
        if arrow is None:
            return None
        arr = arrow.combine_chunks() if isinstance(arrow, pa.ChunkedArray) else arrow
        if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
            return None
        buffers = arr.buffers()
        offset_type = np.int64 if pa.types.is_large_string(arr.type) else np.int32
        offsets = np.frombuffer(buffers[1], dtype=offset_type)[arr.offset : arr.offset + len(arr) + 1].astype(np.int64)
        start, length = offsets[:-1], np.diff(offsets)
        width = int(length.max()) if len(length) else 0
        if width > _MAX_KEYED_BYTES:
            return None
        data = np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None else np.zeros(0, np.uint8)
        padded = np.zeros(len(data) + 8, dtype=np.uint8)
        padded[: len(data)] = data
        # a 64-bit word starting at every byte (unaligned little-endian loads)
        at_byte = np.ndarray((len(data) + 1,), dtype="<u8", buffer=padded, strides=(1,))
        n_words = max(1, -(-width // 8))
        words = np.empty((len(arr), n_words), dtype=np.uint64)
        for j in range(n_words):
            rest = np.clip(length - 8 * j, 0, 8)
            words[:, j] = at_byte[np.minimum(start + 8 * j, len(data))] & _BYTE_MASKS[rest]
        valid = np.ones(len(arr), dtype=bool) if arr.null_count == 0 else np.asarray(arr.is_valid())
        exact = n_words == 1 and not bool((data == 0).any())
        return cls(words=words, length=length, valid=valid, exact=exact)

    def same(self, rows: np.ndarray, other: "_TextKeys", other_rows: np.ndarray) -> np.ndarray:
        """Whether value ``rows[i]`` equals ``other``'s value ``other_rows[i]``."""
        if self.words.shape[1] != other.words.shape[1]:
            width = max(self.words.shape[1], other.words.shape[1])
            mine, theirs = _widen(self.words, width), _widen(other.words, width)
        else:
            mine, theirs = self.words, other.words
        return (self.length[rows] == other.length[other_rows]) & (mine[rows] == theirs[other_rows]).all(axis=1)


def _widen(words: np.ndarray, width: int) -> np.ndarray:
    """``words`` with zero words appended up to ``width`` columns."""
    return np.hstack([words, np.zeros((len(words), width - words.shape[1]), dtype=np.uint64)])


def _check_unique(file: str, frame: pd.DataFrame, column: str, problems: list[Problem]) -> None:
    values = frame[column]
    # Fast path: count distinct values (Arrow's hash, or a set of Python strings); only a
    # column that has duplicates pays for locating them.
    if _all_distinct(values):
        return
    dup = values.duplicated(keep=False).to_numpy() & ~_empty(values)
    _problems_by_value(
        file,
        column,
        values,
        dup,
        lambda v: f"duplicate id {_q(v)} (each {column} must be unique)",
        problems,
        "are duplicated (each must be unique)",
    )


def _to_float(
    file: str,
    frame: pd.DataFrame,
    column: str,
    problems: list[Problem],
    *,
    allow_empty: bool = False,
) -> np.ndarray:
    """Parse a text column to float64; report values that are not finite numbers."""
    text = frame[column]
    # Parsed from Python strings as before (the same decimal-to-binary conversion,
    # whatever the storage of the text column).
    numbers = np.array(
        pd.to_numeric(pd.Series(_obj(text), dtype=object), errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan
        )
    )
    empty = _empty(text)
    bad = ~np.isfinite(numbers) & ~empty
    _problems_by_value(
        file,
        column,
        text,
        bad,
        lambda v: f"value {_q(v)} is not a number (write e.g. 12.5, with a dot and no "
        "thousands separator)",
        problems,
        "are not numbers",
    )
    if allow_empty:
        numbers[empty] = np.nan
    return numbers


def _check_range(
    file: str,
    column: str,
    text: pd.Series,
    numbers: np.ndarray,
    low: float,
    high: float,
    problems: list[Problem],
) -> None:
    with np.errstate(invalid="ignore"):
        bad = np.isfinite(numbers) & ((numbers < low) | (numbers > high))
    _problems_by_value(
        file,
        column,
        text,
        bad,
        lambda v: f"value {_q(v)} is outside [{low:g}, {high:g}]",
        problems,
        f"are outside [{low:g}, {high:g}]",
    )


def _check_positive(
    file: str, column: str, text: pd.Series, numbers: np.ndarray, problems: list[Problem]
) -> None:
    with np.errstate(invalid="ignore"):
        bad = np.isfinite(numbers) & (numbers <= 0)
    _problems_by_value(
        file,
        column,
        text,
        bad,
        lambda v: f"value {_q(v)} must be greater than 0",
        problems,
        "are not greater than 0",
    )


def _check_non_negative(
    file: str, column: str, text: pd.Series, numbers: np.ndarray, problems: list[Problem]
) -> None:
    with np.errstate(invalid="ignore"):
        bad = np.isfinite(numbers) & (numbers < 0)
    _problems_by_value(
        file,
        column,
        text,
        bad,
        lambda v: f"value {_q(v)} must not be negative",
        problems,
        "are negative",
    )


def _to_date(file: str, frame: pd.DataFrame, column: str, problems: list[Problem]) -> np.ndarray:
    """Parse ISO ``YYYY-MM-DD`` dates (exactly that form) to datetime64[ns]."""
    text = frame[column]
    # Dates repeat a lot: parse each distinct value once.
    codes, uniques = pd.factorize(text, use_na_sentinel=False)
    unique_text = pd.Series(np.asarray(uniques, dtype=object), dtype=object)
    form_ok = unique_text.map(lambda v: bool(_ISO_DATE.fullmatch(v))).to_numpy(dtype=bool)
    parsed = pd.to_datetime(
        unique_text.where(form_ok, None), format="%Y-%m-%d", errors="coerce"
    )
    parsed_any = parsed.notna()
    in_range = parsed_any & (parsed >= _TS_MIN) & (parsed <= _TS_MAX)
    parsed = parsed.where(in_range)
    unique_ns = parsed.to_numpy(dtype="datetime64[ns]")
    valid_unique = in_range.to_numpy(dtype=bool)
    empty_unique = (unique_text == "").to_numpy(dtype=bool)
    far_unique = parsed_any.to_numpy(dtype=bool) & ~valid_unique
    bad_unique = ~valid_unique & ~empty_unique & ~far_unique
    _problems_by_value(
        file,
        column,
        text,
        bad_unique[codes],
        lambda v: f"value {_q(v)} is not a valid date (write ISO YYYY-MM-DD, e.g. 2025-07-31)",
        problems,
        "are not valid ISO YYYY-MM-DD dates",
    )
    low, high = _TS_MIN.date().isoformat(), _TS_MAX.date().isoformat()
    _problems_by_value(
        file,
        column,
        text,
        far_unique[codes],
        lambda v: f"value {_q(v)} is outside the supported dates {low} to {high}",
        problems,
        f"are outside the supported dates {low} to {high}",
    )
    return unique_ns[codes]


def _check_enum(
    file: str, frame: pd.DataFrame, column: str, allowed: Sequence[str], problems: list[Problem]
) -> None:
    values = frame[column]
    bad = ~values.isin(allowed).to_numpy() & ~_empty(values)
    _problems_by_value(
        file,
        column,
        values,
        bad,
        lambda v: f"value {_q(v)} is not allowed (allowed: {_allowed(allowed)})",
        problems,
        f"are not allowed (allowed: {_allowed(allowed)})",
    )


def _check_country(file: str, frame: pd.DataFrame, problems: list[Problem]) -> None:
    values = frame["country"]
    bad = ~values.isin(_COUNTRY_CODES).to_numpy() & ~_empty(values)

    def describe(v: str) -> str:
        hint = _COUNTRY_HINTS.get(v.strip().upper())
        if hint is None and v.strip().upper() in _COUNTRY_CODES:
            hint = v.strip().upper()
        tail = f"; did you mean {_q(hint)}?" if hint else " (e.g. GB, US, CN, FI)"
        return f"value {_q(v)} is not an ISO 3166-1 alpha-2 country code{tail}"

    _problems_by_value(
        file, "country", values, bad, describe, problems,
        "are not ISO 3166-1 alpha-2 country codes",
    )


def _join_ids(ids: pd.Series, refs: Sequence[pd.Series]) -> list[np.ndarray]:
    """Row of ``ids`` named by every value of each of ``refs`` (the first row holding that
    id; ``-1`` for an id not in ``ids`` or a missing value), as int64 arrays.

    One vectorised join over all the references at once: Arrow's hash ``index_in`` when the
    columns are Arrow-backed text, else one pandas ``Index.get_indexer``.
    """
    sizes = np.cumsum([len(r) for r in refs])[:-1]
    keyed = _join_by_keys(ids, refs)
    if keyed is not None:
        return np.split(keyed, sizes)
    arrow_ids = _arrow(ids)
    arrow_refs = [_arrow(r) for r in refs]
    if arrow_ids is not None and all(r is not None for r in arrow_refs):
        chunks = [
            chunk.cast(pa.large_string())
            for r in arrow_refs
            for chunk in (r.chunks if isinstance(r, pa.ChunkedArray) else [r])
        ]
        value_set = arrow_ids.cast(pa.large_string())
        if isinstance(value_set, pa.ChunkedArray):
            value_set = value_set.combine_chunks()
        found = pc.index_in(pa.chunked_array(chunks, type=pa.large_string()), value_set=value_set)
        rows = found.fill_null(-1).to_numpy().astype(np.int64)
    else:
        id_values = _obj(ids)
        first = ~pd.Series(id_values).duplicated().to_numpy()
        first_rows = np.flatnonzero(first)
        known = pd.Index(id_values[first], dtype=object)
        hit = known.get_indexer(np.concatenate([_obj(r) for r in refs]))
        rows = np.where(hit >= 0, first_rows[np.maximum(hit, 0)], -1).astype(np.int64)
    return np.split(rows, sizes)


def _join_by_keys(ids: pd.Series, refs: Sequence[pd.Series]) -> np.ndarray | None:
    """:func:`_join_ids` on :class:`_TextKeys` (one uint64 hash look-up for all references,
    matches confirmed byte for byte unless the keys are exact); None when some column has
    no keys or two ids share a key (a duplicated id: the general join reports it)."""
    id_keys = _TextKeys.of(ids)
    ref_keys = [_TextKeys.of(r) for r in refs]
    if id_keys is None or any(k is None for k in ref_keys) or not id_keys.valid.all():
        return None
    exact = id_keys.exact and all(k.exact for k in ref_keys)
    table = pd.Index(id_keys.key if exact else id_keys.hashed())
    if not table.is_unique:
        return None
    parts = []
    for keys in ref_keys:
        row = table.get_indexer(keys.key if exact else keys.hashed()).astype(np.int64)
        row[~keys.valid] = -1
        if not exact:
            hit = np.flatnonzero(row >= 0)
            row[hit[~keys.same(hit, id_keys, row[hit])]] = -1
        parts.append(row)
    return np.concatenate(parts)


@dataclass(frozen=True)
class _Types:
    """The type of each institution row, and whether type rules may be checked against it
    (its type is valid and its id is not duplicated, either of which is reported already)."""

    kind: np.ndarray  # object array of type names
    checkable: np.ndarray  # bool

    @classmethod
    def of(cls, inst: pd.DataFrame) -> "_Types":
        kind = _obj(inst["type"])
        ids = inst["institution_id"]
        duplicated = (
            np.zeros(len(ids), dtype=bool) if _all_distinct(ids) else ids.duplicated(keep=False).to_numpy()
        )
        return cls(kind=kind, checkable=np.isin(kind, INSTITUTION_TYPES) & ~duplicated)

    def at(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(type at each row or ``""`` for ``-1``, whether type rules apply to it)"""
        found = rows >= 0
        safe = np.where(found, rows, 0)
        return np.where(found, self.kind[safe], ""), found & self.checkable[safe]


def _report_unknown_ids(
    file: str, column: str, values: pd.Series, rows: np.ndarray, mask: np.ndarray, problems: list[Problem]
) -> None:
    """One problem per unknown institution id among ``values`` where ``mask`` holds."""
    _problems_by_value(
        file,
        column,
        values,
        mask & (rows < 0),
        lambda v: f"unknown institution id {_q(v)} (not in institutions.csv)",
        problems,
        "are unknown institution ids (not in institutions.csv)",
    )


def _check_spinouts(inst: pd.DataFrame, rows: np.ndarray, types: _Types, problems: list[Problem]) -> None:
    """``spinout_of``: only on startups, naming a known university or research institute."""
    file = FILES["institutions"]
    spin = inst["spinout_of"]
    has_spin = spin.notna().to_numpy()
    if not has_spin.any():
        return
    spin_text = spin.fillna("")
    not_startup = has_spin & np.isin(types.kind, INSTITUTION_TYPES) & (types.kind != "startup")
    _problems_by_value(
        file,
        "spinout_of",
        inst["type"],
        not_startup,
        lambda v: f"only a startup may have a spinout_of, but this institution is a {v}"
        " (leave spinout_of empty)",
        problems,
        "have a spinout_of but are not startups",
    )
    _report_unknown_ids(file, "spinout_of", spin_text, rows, has_spin, problems)
    parent_type, parent_checkable = types.at(rows)
    wrong_parent = has_spin & parent_checkable & ~np.isin(parent_type, RESEARCH_TYPES)
    _problems_by_value(
        file,
        "spinout_of",
        pd.DataFrame({"id": spin_text, "type": parent_type}),
        wrong_parent,
        lambda v, t: f"parent institution {_q(v)} is a {t}; a spin-out must come from a "
        "university or research_institute",
        problems,
        "point to institutions that are not a university or research_institute",
    )


def _check_funded_institutions(fund: pd.DataFrame, rows: np.ndarray, types: _Types, problems: list[Problem]) -> None:
    """``funding.institution_id``: a known institution that is a startup or corporate."""
    file = FILES["funding"]
    values = fund["institution_id"]
    _report_unknown_ids(file, "institution_id", values, rows, ~_empty(values), problems)
    receiver, checkable = types.at(rows)
    _problems_by_value(
        file,
        "institution_id",
        pd.DataFrame({"id": values, "type": receiver}),
        checkable & ~np.isin(receiver, FUNDED_TYPES),
        lambda v, t: f"institution {_q(v)} is a {t}; funding is allowed only on a "
        "startup or corporate",
        problems,
        "are institutions that are neither startup nor corporate (funding is allowed "
        "only on those)",
    )


def _check_references(
    out: dict[str, pd.DataFrame], usable: dict[str, bool], problems: list[Problem]
) -> Links | None:
    """Checks across files: ids that must exist, and the type rules that go with them.

    Every reference (``spinout_of``, funding's ``institution_id``, the two collaboration
    partners) is resolved by one join (:func:`_join_ids`); returns the resolved
    :class:`Links` when funding and collaborations could be checked, else None.
    """
    if not usable["institutions"]:
        return None
    inst = out["institutions"]
    fund = out["funding"] if usable["funding"] else None
    coll = out["collaborations"] if usable["collaborations"] else None
    refs = [inst["spinout_of"]]
    if fund is not None:
        refs.append(fund["institution_id"])
    if coll is not None:
        refs += [coll["institution_a"], coll["institution_b"]]
    rows = _join_ids(inst["institution_id"], refs)
    types = _Types.of(inst)
    _check_spinouts(inst, rows[0], types, problems)
    if fund is not None:
        _check_funded_institutions(fund, rows[1], types, problems)
    if coll is not None:
        file = FILES["collaborations"]
        for column, found in zip(("institution_a", "institution_b"), rows[-2:]):
            _report_unknown_ids(file, column, coll[column], found, ~_empty(coll[column]), problems)
    if fund is None or coll is None:
        return None
    return Links(fund=rows[1], coll_a=rows[2], coll_b=rows[3], tables=(inst, fund, coll))


# ---------------------------------------------------------------------------------------
# the whole database


def load_database(path: str | Path) -> Database:
    """Read and validate the database folder ``path``; raise :class:`DataValidationError`.

    Every rule of contract section 1 is checked and every problem is reported (one
    :class:`Problem` per rule and offending value, with the rows that hold it).
    """
    frames, problems = read_tables(path)
    return validate_frames(frames, problems)


def read_tables(
    path: str | Path, on_file: Callable[[str], None] | None = None
) -> tuple[dict[str, pd.DataFrame | None], list[Problem]]:
    """Read the four CSV files of ``path`` as text, without checking any rule.

    Returns the frames (``None`` for a file that could not be read) and the problems met
    while reading. ``on_file(file_name)`` is called before each file is read (progress).
    Raises :class:`DataValidationError` at once if ``path`` is not a folder.
    """
    folder = Path(path)
    if not folder.exists():
        raise DataValidationError(
            [Problem(str(folder), (), "", "folder does not exist (expected a database folder "
                     "holding " + ", ".join(FILES.values()) + ")")]
        )
    if not folder.is_dir():
        raise DataValidationError(
            [Problem(str(folder), (), "", "is not a folder (give the folder that holds "
                     + ", ".join(FILES.values()) + ")")]
        )
    problems: list[Problem] = []
    frames: dict[str, pd.DataFrame | None] = {}
    for table, file in FILES.items():
        if on_file is not None:
            on_file(file)
        frames[table] = _read_csv(folder / file, file, problems)
    return frames, problems


def validate_frames(
    frames: dict[str, pd.DataFrame | None], problems: list[Problem] | None = None
) -> Database:
    """Validate four all-text frames (as read by :func:`load_database`) and convert them.

    ``frames`` maps ``institutions``, ``funding``, ``collaborations``, ``areas`` to frames
    whose every column is text (``""`` for empty) or to ``None`` for a file that could not
    be read. ``problems`` already found are kept. Useful for checking a database built in
    memory: ``validate_frames({name: df.astype(str) ...})``.
    """
    problems = [] if problems is None else problems
    usable: dict[str, bool] = {}
    converted: dict[str, pd.DataFrame] = {}
    for table, file in FILES.items():
        frame = frames.get(table)
        if frame is None:
            usable[table] = False
            continue
        frame = frame.reset_index(drop=True)
        frame.columns = [str(c) for c in frame.columns]
        missing = [c for c in REQUIRED_COLUMNS[table] if c not in frame.columns]
        for column in missing:
            problems.append(
                Problem(
                    file,
                    (),
                    column,
                    "required column is missing (the file has columns: "
                    + ", ".join(frame.columns)
                    + ")",
                )
            )
        if table in ("institutions", "areas") and len(frame) == 0 and not missing:
            problems.append(Problem(file, (), "", "file has a header but no data rows"))
        frame = frame.copy(deep=False)
        for column in OPTIONAL_COLUMNS[table]:
            if column not in frame.columns:
                frame[column] = ""
        for column in frame.columns:
            if frame[column].dtype != "str":
                frame[column] = frame[column].fillna("").astype(str)
        usable[table] = not missing
        converted[table] = frame

    out: dict[str, pd.DataFrame] = {}
    for table in FILES:
        if usable[table]:
            out[table] = _check_table(table, converted[table], problems)

    links = _check_references(out, usable, problems)

    if problems:
        raise DataValidationError(_in_reading_order(problems))
    return Database(
        institutions=out["institutions"],
        funding=out["funding"],
        collaborations=out["collaborations"],
        areas=out["areas"],
        links=links,
    )


def _in_reading_order(problems: list[Problem]) -> list[Problem]:
    """Problems sorted by file (contract order), then by first row; whole-file first."""
    order = {file: k for k, file in enumerate(FILES.values())}
    return sorted(
        problems,
        key=lambda p: (order.get(p.file, -1), p.rows[0] if p.rows else 0),
    )


def _check_table(table: str, frame: pd.DataFrame, problems: list[Problem]) -> pd.DataFrame:
    """Checks that need only the table itself; return the converted frame."""
    file = FILES[table]
    blank = _check_blank_rows(file, frame, problems)
    _check_required_present(file, frame, REQUIRED_COLUMNS[table], problems, ~blank)
    _check_unique(file, frame, _ID_COLUMN[table], problems)
    result = frame.copy(deep=False)
    for column in _FLOAT_COLUMNS[table]:
        optional = column in OPTIONAL_COLUMNS[table]
        numbers = _to_float(file, frame, column, problems, allow_empty=optional)
        text = frame[column]
        if column == "lat":
            _check_range(file, column, text, numbers, -90, 90, problems)
        elif column == "lon":
            _check_range(file, column, text, numbers, -180, 180, problems)
        elif column == "ecosystem_value_usd":
            _check_non_negative(file, column, text, numbers, problems)
        else:
            _check_positive(file, column, text, numbers, problems)
        result[column] = numbers
    for column in _DATE_COLUMNS[table]:
        result[column] = _to_date(file, frame, column, problems)
    if table == "institutions":
        _check_enum(file, frame, "type", INSTITUTION_TYPES, problems)
        for column in OPTIONAL_COLUMNS[table]:
            result[column] = frame[column].where(~_empty(frame[column]))
    if table == "funding":
        _check_enum(file, frame, "kind", FUNDING_KINDS, problems)
    if table in ("institutions", "areas"):
        _check_country(file, frame, problems)
    if table == "collaborations":
        a, b = frame["institution_a"], frame["institution_b"]
        same = np.asarray(a == b, dtype=bool) & ~_empty(a)
        _problems_by_value(
            file,
            "institution_a, institution_b",
            a,
            same,
            lambda v: f"self-collaboration: both partners are {_q(v)} (the two must differ)",
            problems,
            "are self-collaborations (the two partners must differ)",
        )
    return result


# ---------------------------------------------------------------------------------------
# the data cut-off


def parse_cutoff(value: str | _dt.date | pd.Timestamp) -> pd.Timestamp:
    """A cut-off as a day-precision ``Timestamp``; strings must be ISO ``YYYY-MM-DD``.

    Raises ``ValueError`` with a readable message for anything else.
    """
    if isinstance(value, pd.Timestamp):
        return value.normalize()
    if isinstance(value, _dt.datetime):
        return pd.Timestamp(value).normalize()
    if isinstance(value, _dt.date):
        return pd.Timestamp(value)
    text = str(value).strip()
    if not _ISO_DATE.fullmatch(text):
        raise ValueError(f"cut-off {value!r} is not an ISO date YYYY-MM-DD (e.g. 2025-07-31)")
    try:
        return pd.Timestamp(_dt.date.fromisoformat(text))
    except ValueError:
        raise ValueError(f"cut-off {value!r} is not a valid calendar date") from None


def apply_cutoff(db: Database, cutoff: str | _dt.date | pd.Timestamp) -> Database:
    """The part of ``db`` that counts at ``cutoff`` (contract section 2; inclusive).

    * an institution counts if ``active_since <= cutoff``;
    * a funding row counts if ``date <= cutoff`` **and its institution counts** (a funding
      row of an institution that is not yet active at the cut-off would otherwise belong to
      no counted institution; the contract is silent, and this reading keeps every counted
      row attached to a counted institution);
    * a collaboration counts if ``date <= cutoff`` and both partners count;
    * areas are not dated and are all kept.

    The returned frames are copies with a fresh ``RangeIndex`` (file order kept).
    """
    day = parse_cutoff(cutoff)
    inst = db.institutions
    inst_keep = (inst["active_since"] <= day).to_numpy()
    institutions = _kept(inst, inst_keep)
    links = db.fitting_links()
    if links is not None:
        fund_counts, coll_a_counts, coll_b_counts = (
            _row_counts(inst_keep, rows) for rows in (links.fund, links.coll_a, links.coll_b)
        )
    else:
        fund_counts = _id_counts(inst, inst_keep, db.funding["institution_id"])
        coll_a_counts = _id_counts(inst, inst_keep, db.collaborations["institution_a"])
        coll_b_counts = _id_counts(inst, inst_keep, db.collaborations["institution_b"])

    fund = db.funding
    fund_keep = (fund["date"] <= day).to_numpy() & fund_counts
    coll = db.collaborations
    coll_keep = np.array((coll["date"] <= day).to_numpy(), dtype=bool)
    coll_keep &= coll_a_counts & coll_b_counts
    funding = _kept(fund, fund_keep)
    collaborations = _kept(coll, coll_keep)
    kept_links = None
    if links is not None:
        kept_links = Links(
            fund=_kept_rows(links.fund, fund_keep, inst_keep),
            coll_a=_kept_rows(links.coll_a, coll_keep, inst_keep),
            coll_b=_kept_rows(links.coll_b, coll_keep, inst_keep),
            tables=(institutions, funding, collaborations),
        )
    return dataclasses.replace(
        db,
        institutions=institutions,
        funding=funding,
        collaborations=collaborations,
        areas=db.areas.reset_index(drop=True),
        links=kept_links,
    )


def _kept(frame: pd.DataFrame, keep: np.ndarray) -> pd.DataFrame:
    """The rows of ``frame`` where ``keep`` holds, with a fresh index (no copy of the
    columns when every row is kept, as at a cut-off after the last date)."""
    if keep.all():
        return frame.reset_index(drop=True)
    return frame.loc[keep].reset_index(drop=True)


def _row_counts(inst_keep: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Whether the institution at each row counts (a row of ``-1`` never does)."""
    return np.append(inst_keep, False)[rows]


def _kept_rows(rows: np.ndarray, keep: np.ndarray, inst_keep: np.ndarray) -> np.ndarray:
    """The institution ``rows`` of the kept referring rows (``keep``), renumbered as rows
    of the counted institutions (``inst_keep``): a row's rank among the kept ones; ``-1``
    stays ``-1``. No work where everything is kept."""
    kept = rows if keep.all() else rows[keep]
    if inst_keep.all():
        return kept
    new_row = np.where(inst_keep, np.cumsum(inst_keep) - 1, -1).astype(np.int64)
    return np.append(new_row, -1)[kept]


def _id_counts(inst: pd.DataFrame, inst_keep: np.ndarray, ids: pd.Series) -> np.ndarray:
    """Whether each of ``ids`` names no institution that does not count yet (without
    :class:`Links`: looked up by id; usually few institutions are not yet active)."""
    later = frozenset(inst.loc[~inst_keep, "institution_id"].to_numpy(dtype=object))
    if not later:
        return np.ones(len(ids), dtype=bool)
    return ~np.fromiter(map(later.__contains__, ids.to_numpy(dtype=object)), dtype=bool, count=len(ids))
