"""Time-series data: the :class:`TimeSeries` container and reading it from CSV or Parquet.

Reading validates everything later stages rely on and names the file, column and
row of any problem: numeric finite values, strictly increasing time within each
trajectory, enough samples. Irregular sampling is allowed.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.errors import DataError, DataFileNotFoundError
from pipeline.time_axis import TIME_UNITS, TimeAxis, looks_like_datetime, parse_datetime_column

__all__ = [
    "MIN_SAMPLES",
    "SampleTable",
    "TimeSeries",
    "check_outputs_vary",
    "load_points",
    "load_table",
    "load_timeseries",
    "validate_timeseries",
]

MIN_SAMPLES = 3
"""Fewest samples per trajectory any stage can work with."""
MAX_MAGNITUDE = 1e150
"""Largest |value| accepted: squares and products of such values stay finite in float64."""


@dataclass(frozen=True)
class TimeSeries:
    """Sampled states of one or several trajectories.

    Attributes:
        t: sample times, shape (n,), strictly increasing within each trajectory.
        x: states, shape (n, d), one column per state.
        names: the d state names.
        trajectory: trajectory label of each row, shape (n,), or None for one trajectory.
        source: where the data came from (a path or a description), for messages.
        u: known inputs (controls), shape (n, m), or None.
        control_names: the m input names.
        time_axis: for a time column of dates/datetimes, the unit of ``t`` and its origin timestamp;
            None when the times were numbers (in the file's own unit).
        notes: what reading the file decided that a reader should know (a column left out, ...).
    """

    t: np.ndarray
    x: np.ndarray
    names: tuple[str, ...]
    trajectory: np.ndarray | None = None
    source: str = "<array>"
    u: np.ndarray | None = None
    control_names: tuple[str, ...] = ()
    time_axis: TimeAxis | None = None
    notes: tuple[str, ...] = ()
    _groups: tuple[tuple[object, np.ndarray], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.trajectory is None:
            groups: tuple[tuple[object, np.ndarray], ...] = ((None, np.arange(len(self.t))),)
        else:
            # factorize, not np.unique: labels in order of first appearance without sorting them, so labels of
            # mixed types (1 and "b" from a Python frame) do not fail to compare
            codes, labels = pd.factorize(self.trajectory, use_na_sentinel=False)
            groups = tuple((label, np.flatnonzero(codes == k)) for k, label in enumerate(labels))
        object.__setattr__(self, "_groups", groups)

    @property
    def n_samples(self) -> int:
        """Total number of rows over all trajectories."""
        return int(self.t.shape[0])

    @property
    def n_states(self) -> int:
        """Number of state columns d."""
        return int(self.x.shape[1])

    @property
    def n_trajectories(self) -> int:
        """Number of separate trajectories."""
        return len(self._groups)

    @property
    def trajectory_labels(self) -> list[object]:
        """Labels of the trajectories in order of first appearance (``[None]`` for one)."""
        return [label for label, _ in self._groups]

    def trajectories(self) -> list[TimeSeries]:
        """Each trajectory as its own single-trajectory :class:`TimeSeries`, with its known inputs."""
        if self.trajectory is None:
            return [self]
        return [
            TimeSeries(
                t=self.t[rows],
                x=self.x[rows],
                names=self.names,
                source=f"{self.source}[{label}]",
                u=None if self.u is None else self.u[rows],
                control_names=self.control_names,
                time_axis=self.time_axis,
                notes=self.notes,
            )
            for label, rows in self._groups
        ]

    def place(self, k: int) -> str:
        """Where the k-th trajectory is, for messages: the source, with the trajectory's label when it has one."""
        label = self._groups[k][0]
        shown = repr(str(label)) if isinstance(label, str) else label  # numpy's str labels too: 'b', not np.str_('b')
        return self.source if label is None else f"{self.source} (trajectory {shown})"

    def require_samples(self, needed: int, needs: str, advice: str = "") -> None:
        """Check that every trajectory has at least ``needed`` samples.

        Raises:
            DataError: naming the first short trajectory, what ``needs`` them, how many trajectories are short
                (when there are several), then the ``advice``.
        """
        lengths = [len(rows) for _, rows in self._groups]
        short = [k for k, n in enumerate(lengths) if n < needed]
        if short:
            total = self.n_trajectories
            verb = "has" if len(short) == 1 else "have"
            count = f" ({len(short)} of {total} trajectories {verb} fewer)" if total > 1 else ""
            raise DataError(f"{self.place(short[0])}: {lengths[short[0]]} samples; {needs}{count}{advice}")

    def row_groups(self) -> list[np.ndarray]:
        """The rows of each trajectory, in order of first appearance (indices into ``t`` and ``x``)."""
        return [rows for _, rows in self._groups]

    def t_list(self) -> list[np.ndarray]:
        """Times per trajectory."""
        return [self.t[rows] for _, rows in self._groups]

    def x_list(self) -> list[np.ndarray]:
        """States per trajectory, each (n_k, d)."""
        return [self.x[rows] for _, rows in self._groups]

    def u_list(self) -> list[np.ndarray] | None:
        """Known inputs per trajectory, each (n_k, m), or None without inputs."""
        return None if self.u is None else [self.u[rows] for _, rows in self._groups]


TEXT_SUFFIXES = {".csv", ".txt", ".tsv"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
COMPRESSED_SUFFIXES = {".gz", ".bz2", ".xz", ".zst"}
DATA_FILE_SUFFIXES = frozenset(TEXT_SUFFIXES | PARQUET_SUFFIXES | COMPRESSED_SUFFIXES | {".npy"})
"""Every suffix of a file this module reads: tables (also compressed) and ``.npy`` point arrays."""


def _text_suffix(path: Path) -> str:
    """The table's own suffix (``.csv`` for ``data.csv.gz``): compression suffixes are read through."""
    suffixes = [s.lower() for s in path.suffixes]
    if len(suffixes) >= 2 and suffixes[-1] in COMPRESSED_SUFFIXES:
        return suffixes[-2]
    return path.suffix.lower()


def _check_unique_header(frame: pd.DataFrame, path: Path, sep: str) -> None:
    """pandas renames a repeated header ``u`` to ``u.1``, which would be modelled as another state: refuse it."""
    header = pd.read_csv(path, sep=sep, nrows=1, header=None, dtype=str).iloc[0].tolist() if len(frame.columns) else []
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise DataError(f"{path}: column '{name}' appears twice in the header (expected unique column names)")
        seen.add(name)


def _check_row_lengths(path: Path, sep: str, width: int) -> None:
    """Refuse a data row with fewer fields than the header's ``width``: pandas fills the missing ones at the row's
    end with NaN, so a value missing in the middle (``1,3`` under ``t,x,y``) moves the next one into the wrong
    column (x = 3), silently when that column's NaN is not used. Rows are counted as pandas counts them (blank lines
    skipped)."""
    from pandas.io.common import get_handle

    with get_handle(path, "r", compression="infer", encoding="utf-8-sig", errors="replace") as handles:
        rows = (fields for fields in csv.reader(handles.handle, delimiter=sep) if fields)
        next(rows, None)  # the header
        for row, fields in enumerate(rows, start=1):
            if len(fields) < width:
                raise DataError(
                    f"{path}: data row {row} has {len(fields)} fields and the header {width} (a value or a separator"
                    " is missing; an empty value is written as nothing between two separators)"
                )


def _read_table(path: Path) -> pd.DataFrame:
    if path.is_dir():
        raise DataError(f"{path}: a folder, not a data file (expected a .csv, .tsv or .parquet file)")
    if not path.is_file():
        raise DataFileNotFoundError(f"{path}: data file not found")
    suffix = _text_suffix(path)
    try:
        if suffix in PARQUET_SUFFIXES:
            return _with_named_index(pd.read_parquet(path))
        if suffix in TEXT_SUFFIXES:
            sep = "\t" if suffix == ".tsv" else ","
            frame = pd.read_csv(path, sep=sep)  # compression inferred from the name
            if sep == "," and frame.shape[1] == 1 and ";" in str(frame.columns[0]):
                sep, frame = ";", _read_semicolon_csv(path)
            elif sep == "," and frame.shape[1] == 1 and "\t" in str(frame.columns[0]):
                sep, frame = "\t", pd.read_csv(path, sep="\t")  # a tab-separated file named .csv
            _check_unique_header(frame, path, sep)
            if frame.isna().to_numpy().any():  # pandas fills a row short of fields with NaN, shifted or not
                _check_row_lengths(path, sep, frame.shape[1])
            return _stripped_names(frame)
    except DataError:
        raise
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{path}: the file is empty (expected a header row and data rows)") from exc
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot be read as {suffix[1:].upper()} ({exc})") from exc
    raise DataError(
        f"{path}: unsupported file type '{suffix}' (expected .csv, .tsv or .parquet; .csv and .tsv may be .gz, .bz2,"
        " .xz or .zst compressed)"
    )


def _with_named_index(frame: pd.DataFrame) -> pd.DataFrame:
    """A Parquet table with its named index levels as columns: pandas writes ``frame.set_index("t")``'s ``t`` as
    the index, which a column role must be able to name. An unnamed index (row numbers) is dropped."""
    names = [name for name in frame.index.names if name is not None]
    # with no name, or a column of the same name (the one the file means), the index is row labels: dropped
    return frame.reset_index(drop=not names or any(name in frame.columns for name in names))


DECIMAL_COMMA = r"\s*[-+]?\d*,\d+(?:[eE][-+]?\d+)?\s*"
"""A number written with a decimal comma (1,5 or -0,25e-3), as spreadsheets in many locales save it."""


def _read_semicolon_csv(path: Path) -> pd.DataFrame:
    """A CSV separated by semicolons (a spreadsheet's export in locales whose decimal mark is a comma), read with
    decimal commas when a text column holds nothing but such numbers."""
    frame = pd.read_csv(path, sep=";")
    text = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if any(frame[c].dropna().astype(str).str.fullmatch(DECIMAL_COMMA).all() for c in text):
        frame = pd.read_csv(path, sep=";", decimal=",")
    return frame


def _stripped_names(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with spaces around its column names removed (``t, x, y`` written with spaces after the commas),
    unless that would make two names alike."""
    names = [str(c).strip() for c in frame.columns]
    if len(set(names)) == len(names):
        frame.columns = names
    return frame


def _numeric_column(frame: pd.DataFrame, column: str, source: str, *, hint: str = "") -> np.ndarray:
    """The ``column`` of ``frame`` as floats.

    Raises:
        DataError: a value is not a number, naming the column, the value, its data row, and ``hint`` (what the
            column may be instead) when most of its values are not numbers: a stray cell in a column of numbers is
            a typo in that cell, not a column in the wrong role."""
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = values.isna() & frame[column].notna()
    if bad.any():
        hint = hint if 2 * int(bad.sum()) > int(frame[column].notna().sum()) else ""
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"{source}: column '{column}' has a non-numeric value {frame[column].iloc[row]!r} at data row {row + 1}"
            f" (expected numbers){hint}"
        )
    return values.to_numpy(dtype=float)


def _state_column(frame: pd.DataFrame, column: str, source: str, hint: str) -> np.ndarray:
    """A state column as floats; True/False values (a switch, a flag) are refused, not read as 0 and 1: a state
    that jumps between two values has no derivative to model."""
    if pd.api.types.is_bool_dtype(frame[column]):
        raise DataError(
            f"{source}: state column '{column}' holds True/False values (expected numbers measured over time; a known"
            f" on/off input belongs in data.control_columns){hint}"
        )
    return _numeric_column(frame, column, source, hint=hint)


def _default_role(role: str, field: str, others: str) -> str:
    """The hint that a column took ``role`` by default: every column but ``others`` does unless ``field`` lists
    them."""
    return (
        f"; it was taken as a {role} because {field} is not given (every column but {others} is):"
        f" name the {role}s in {field}"
    )


def _trajectory_hint(values: pd.Series) -> str:
    """Where a column taken as a state holds text that repeats (``run1``, ``run1``, ..., ``run2``): the suggestion that
    it names trajectories (panel data), else nothing."""
    if pd.api.types.is_numeric_dtype(values) or values.nunique() > len(values) // 2:
        return ""
    return (
        f"; its {values.nunique()} distinct values over {len(values)} rows look like trajectory ids: if so, set"
        f" data.trajectory_column: {values.name}"
    )


TIME_HINT = (
    "; a time column holds numbers or ISO 8601 dates/datetimes (2024-03-31, 2024-03-31T08:00:00, with or without an"
    " offset such as +02:00 or Z): write other date formats (03/31/2024) as ISO"
)
"""What a time column may hold, added to the message when its values are neither numbers nor ISO dates."""
UNITS_ROW_HINT = "; only the first data row is not a number: a row of units under the header? Remove it"
"""Added to the message when only the first data row of the time column is not a number."""


def _time_column(values: pd.Series, source: str, column: str, unit: str) -> tuple[np.ndarray, TimeAxis | None]:
    """Numeric times as they are, or ISO dates/datetimes (by the first value) in ``unit`` since the earliest."""
    if looks_like_datetime(values):
        return parse_datetime_column(values, source, column, unit)
    numbers = pd.to_numeric(values, errors="coerce")
    bad = (numbers.isna() & values.notna()).to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        hint = UNITS_ROW_HINT if len(bad) > 1 and row == 0 and not bad[1:].any() else TIME_HINT
        raise DataError(
            f"{source}: column '{column}' has a non-numeric value {values.iloc[row]!r} at data row {row + 1}"
            f" (expected numbers){hint}"
        )
    return numbers.to_numpy(dtype=float), None


def validate_timeseries(
    t: np.ndarray,
    x: np.ndarray,
    names: Sequence[str],
    source: str,
    *,
    rows: np.ndarray | None = None,
    order_hint: str = "",
    time_column: str = "t",
    written: np.ndarray | None = None,
) -> None:
    """Check finiteness, time order and sample count of one trajectory.

    Args:
        t: times, shape (n,).
        x: states, shape (n, d).
        names: d state names, for messages.
        source: file or trajectory description, for messages.
        rows: where each sample is among the file's data rows (0-based, (n,)): messages then name the file's data
            row (counted from 1 below the header, as a spreadsheet shows it); without it, the row within ``t`` as
            numpy indexes it ("0-based row 10", as :func:`pipeline.differentiation.differentiate` names it).
        order_hint: added to the message when times do not increase.
        time_column: the name of the times in messages (the file's time column; ``t`` for arrays).
        written: the times as the file wrote them, (n,) (dates and datetimes), for messages about their order;
            None: ``t`` itself.

    Raises:
        DataError: naming the column and the first offending row.
    """

    def where(i: int) -> str:
        return f"0-based row {i}" if rows is None else f"data row {int(rows[i]) + 1}"

    if t.shape[0] < MIN_SAMPLES:
        raise DataError(f"{source}: {t.shape[0]} samples; at least {MIN_SAMPLES} are needed")
    if x.ndim != 2 or x.shape[0] != t.shape[0]:
        raise DataError(f"{source}: states have shape {x.shape}, expected ({t.shape[0]}, d) to match the times")
    for column, values in [(time_column, t), *((name, x[:, j]) for j, name in enumerate(names))]:
        bad = ~np.isfinite(values)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"{source}: column '{column}' has {values[row]} at {where(row)} (expected finite numbers;"
                " drop or interpolate missing values first)"
            )
    for column, values in [(time_column, t), *((name, x[:, j]) for j, name in enumerate(names))]:
        peak = float(np.max(np.abs(values)))
        if peak > MAX_MAGNITUDE or 0 < peak < 1 / MAX_MAGNITUDE:
            raise DataError(
                f"{source}: column '{column}' has magnitude {peak:.3g}, outside [{1 / MAX_MAGNITUDE:g}, "
                f"{MAX_MAGNITUDE:g}] where float64 products stay finite; rescale it (e.g. express it in other units)"
            )
    steps = np.diff(t)
    if (steps <= 0).any():
        row = int(np.flatnonzero(steps <= 0)[0]) + 1
        kind = "duplicate" if steps[row - 1] == 0 else "decreasing"
        fix = " (sort the rows by time)" if kind == "decreasing" else ""
        shown = t if written is None else [str(value) for value in written]
        raise DataError(
            f"{source}: {kind} time {shown[row]} at {where(row)} (after {shown[row - 1]}); times must strictly"
            " increase" + fix + order_hint
        )
    for j, name in enumerate(names):
        if np.ptp(x[:, j]) == 0.0:
            raise DataError(f"{source}: column '{name}' is constant ({x[0, j]}); a state must vary to be modelled")


def _check_roles(
    source: str, time_column: str, trajectory_column: str | None, states: Sequence[str], controls: Sequence[str]
) -> None:
    """Raise a :class:`DataError` when one column is given two roles (time, trajectory, state, control)."""
    roles: dict[str, str] = {}
    named = [("time", time_column), ("trajectory", trajectory_column), *(("state", c) for c in states)]
    for role, column in [*named, *(("control", c) for c in controls)]:
        if column is None:
            continue
        if column in roles:
            given = f"twice as a {role} column" if roles[column] == role else f"as both {roles[column]} and {role}"
            raise DataError(f"{source}: column '{column}' is given {given} (expected each column in one role)")
        roles[column] = role


def _check_time_unit(source: str, time_column: str, time_unit: str) -> None:
    """Raise a :class:`DataError` listing the units when ``time_unit`` is none of them."""
    units = ["auto", *TIME_UNITS]
    if time_unit not in units:
        raise DataError(
            f"{source}: time_unit {time_unit!r} is not a unit dates are measured in; expected one of {units}"
            f" (for the dates or datetimes of column '{time_column}')"
        )


def _unused_time_unit(source: str, time_column: str, time_unit: str, axis: TimeAxis | None) -> tuple[str, ...]:
    """The note that a ``time_unit`` was given for numeric times (no ``axis``), which it does not apply to."""
    if axis is not None or time_unit == "auto":
        return ()
    return (
        f"{source}: data.time_unit '{time_unit}' applies to dates and datetimes; the numeric times of"
        f" '{time_column}' are used as they are (rates are per their unit)",
    )


def _check_present(
    source: str,
    columns: list[str],
    time_column: str,
    state_columns: Sequence[str] | None,
    trajectory_column: str | None,
    controls: list[str],
) -> None:
    """Raise a DataError naming every column of a role that the file's ``columns`` lack, with the config field."""
    roles = {
        "data.time_column, 't' unless the config names another": [time_column],
        "data.state_columns": list(state_columns or []),
        "data.trajectory_column": [trajectory_column] if trajectory_column else [],
        "data.control_columns": controls,
    }
    missing = {field: [c for c in wanted if c not in columns] for field, wanted in roles.items()}
    if any(missing.values()):
        named = "; ".join(f"{names} ({field})" for field, names in missing.items() if names)
        raise DataError(f"{source}: missing column(s) {named}; the file has {columns}")


def load_timeseries(
    path: str | Path,
    *,
    time_column: str = "t",
    state_columns: Sequence[str] | None = None,
    trajectory_column: str | None = None,
    control_columns: Sequence[str] | None = None,
    time_unit: str = "auto",
) -> TimeSeries:
    """Read a time series from CSV or Parquet.

    Args:
        path: a ``.csv``, ``.tsv`` or ``.parquet`` file.
        time_column: the column of sample times (``t`` unless named): numbers (any unit; derivatives are per that
            unit) or ISO 8601 dates/datetimes (from the earliest, in ``time_unit``; :mod:`pipeline.time_axis`).
        state_columns: the state columns, in order; every column but time, trajectory and controls when None (and
            but a saved row index, left out with a note in :attr:`TimeSeries.notes`).
        trajectory_column: the column telling trajectories apart, if the file holds several.
        control_columns: known inputs (controls) the dynamics may depend on; not modelled themselves.
        time_unit: for dates/datetimes, ``s``, ``min``, ``h``, ``d`` or ``auto`` (from the median spacing);
            numeric times are used as they are (a unit given for them is noted in :attr:`TimeSeries.notes`).

    Returns:
        A validated :class:`TimeSeries`; rows keep their file order; ``time_axis`` set for datetimes.

    Raises:
        DataFileNotFoundError: the file does not exist.
        DataError: the path is a folder; ``time_unit`` is not one of the units above; a column is missing or
            non-numeric, a value is not finite, times do not strictly increase within a trajectory, or there are
            too few samples.
    """
    path = Path(path)
    source = str(path)
    _check_time_unit(source, time_column, time_unit)
    frame = _read_table(path)
    if frame.empty:
        raise DataError(f"{source}: no data rows (expected a header row and at least {MIN_SAMPLES} rows)")
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    controls = list(control_columns or [])
    _check_present(source, columns, time_column, state_columns, trajectory_column, controls)
    notes: tuple[str, ...] = ()
    by_default = state_columns is None
    hint = _default_role("state", "data.state_columns", "time, trajectory and controls") if by_default else ""
    if by_default:
        others = [c for c in columns if c not in {time_column, trajectory_column, *controls}]
        state_columns = [c for c in others if not _left_out(frame[c])]
        notes = tuple(_left_out_note(source, frame[c], "data.state_columns") for c in others if c not in state_columns)
        if not state_columns:
            raise DataError(f"{source}: no state columns besides '{time_column}'; the file has {columns}")
    _check_roles(source, time_column, trajectory_column, state_columns, controls)
    t, axis = _time_column(frame[time_column], source, time_column, time_unit)
    notes += _unused_time_unit(source, time_column, time_unit, axis)
    panel = by_default and not trajectory_column  # a text id column among the states by default: say what it may be
    x = np.column_stack(
        [_state_column(frame, c, source, hint + (_trajectory_hint(frame[c]) if panel else "")) for c in state_columns]
    )
    trajectory = frame[trajectory_column].to_numpy() if trajectory_column else None
    if trajectory is not None and pd.isna(trajectory).any():
        row = int(np.flatnonzero(pd.isna(trajectory))[0])
        raise DataError(f"{source}: column '{trajectory_column}' is empty at data row {row + 1}")
    u = np.column_stack([_numeric_column(frame, c, source) for c in controls]) if controls else None
    _check_controls(source, controls, u)
    series = TimeSeries(
        t=t,
        x=x,
        names=tuple(state_columns),
        trajectory=trajectory,
        source=source,
        u=u,
        control_names=tuple(controls),
        time_axis=axis,
        notes=notes,
    )
    written = frame[time_column].astype(str).to_numpy() if axis is not None else None
    _validate_trajectories(series, time_column, named=trajectory_column is not None, written=written)
    return series


def _check_controls(source: str, controls: list[str], u: np.ndarray | None) -> None:
    """Raise a :class:`DataError` when a control column has a value that is not finite, a magnitude whose products
    overflow (as for states), or never changes in the whole file: a constant input is indistinguishable from the
    constant term, and a model would attribute to it an effect the data never showed."""
    if u is None:
        return
    if not np.all(np.isfinite(u)):
        row, col = np.argwhere(~np.isfinite(u))[0]
        raise DataError(
            f"{source}: control column '{controls[col]}' has {u[row, col]} at data row {row + 1} (expected finite"
            " numbers)"
        )
    for j, name in enumerate(controls):
        peak = float(np.max(np.abs(u[:, j])))
        if peak > MAX_MAGNITUDE or 0 < peak < 1 / MAX_MAGNITUDE:
            raise DataError(
                f"{source}: control column '{name}' has magnitude {peak:.3g}, outside [{1 / MAX_MAGNITUDE:g},"
                f" {MAX_MAGNITUDE:g}] where float64 products stay finite; rescale it (e.g. express it in other units)"
            )
        if np.ptp(u[:, j]) == 0.0:
            raise DataError(
                f"{source}: control column '{name}' is constant ({u[0, j]}) in every row; a known input must vary"
                " for the data to show its effect (remove it from data.control_columns)"
            )


def _validate_trajectories(
    series: TimeSeries, time_column: str, named: bool, written: np.ndarray | None = None
) -> None:
    """:func:`validate_timeseries` on each trajectory of a series read from a file (messages name the file's
    ``time_column``); first, when several are too short, one message that names the first and counts them.
    Without a ``named`` trajectory column, a message about times that do not increase suggests one; it shows
    dates and datetimes as ``written`` in the file (all its rows' time values), not as the numbers they became."""
    hint = "" if named else "; if the file holds several trajectories, name their column in trajectory_column"
    if series.n_trajectories > 1:
        series.require_samples(MIN_SAMPLES, f"at least {MIN_SAMPLES} are needed per trajectory")
    for k, (_, rows) in enumerate(series._groups):
        validate_timeseries(
            series.t[rows], series.x[rows], series.names, series.place(k), rows=rows, order_hint=hint,
            time_column=time_column, written=None if written is None else written[rows],
        )  # fmt: skip


@dataclass(frozen=True)
class SampleTable:
    """Samples of features and outputs, as read from a table.

    Attributes:
        X: features, (n, d).
        Y: outputs, (n, q).
        features: d feature names.
        outputs: q output names.
        source: where it came from, for messages.
        notes: what reading the table decided that a reader should know (a column left out, ...).
    """

    X: np.ndarray
    Y: np.ndarray
    features: tuple[str, ...]
    outputs: tuple[str, ...]
    source: str = "<memory>"
    notes: tuple[str, ...] = ()


def load_table(path: str | Path, *, outputs: Sequence[str], features: Sequence[str] | None = None) -> SampleTable:
    """Read feature and output columns from CSV or Parquet.

    Args:
        path: a ``.csv``, ``.tsv`` or ``.parquet`` file.
        outputs: output columns.
        features: feature columns; every other column when None.

    Raises:
        DataFileNotFoundError: the file does not exist.
        DataError: a column is missing, repeated, non-numeric, non-finite or constant; too few rows.
    """
    path = Path(path)
    source = str(path)
    frame = _read_table(path)
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    if frame.empty:
        raise DataError(f"{source}: no data rows (expected a header row and sample rows)")
    outputs = list(outputs)
    notes: tuple[str, ...] = ()
    by_default = features is None
    if by_default:
        index = [c for c in columns if c not in outputs and _left_out(frame[c])]
        features = [c for c in columns if c not in outputs and c not in index]
        notes = tuple(_left_out_note(source, frame[c], "data.features") for c in index)
    else:
        features = list(features)
    missing = [c for c in [*features, *outputs] if c not in columns]
    if missing:
        raise DataError(f"{source}: missing column(s) {missing}; the file has {columns}")
    if not features:
        raise DataError(f"{source}: no feature columns besides the outputs {outputs}")
    overlap = sorted(set(features) & set(outputs))
    if overlap or len(set(features)) != len(features) or len(set(outputs)) != len(outputs):
        raise DataError(f"{source}: a column is named twice among features {features} and outputs {outputs}")
    hint = _default_role("feature", "data.features", "the outputs") if by_default else ""
    X = np.column_stack([_numeric_column(frame, c, source, hint=hint) for c in features])
    Y = np.column_stack([_numeric_column(frame, c, source) for c in outputs])
    for name, values in [*zip(features, X.T), *zip(outputs, Y.T)]:
        bad = ~np.isfinite(values)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"{source}: column '{name}' has {values[row]} at data row {row + 1} (expected finite numbers)"
            )
    if len(X) < len(features) + 4:
        raise DataError(
            f"{source}: {len(X)} rows; at least {len(features) + 4} are needed for {len(features)} features"
        )
    for name, values in zip(features, X.T):
        if np.ptp(values) == 0:
            raise DataError(f"{source}: feature column '{name}' is constant ({values[0]}); it must vary")
    return SampleTable(X=X, Y=Y, features=tuple(features), outputs=tuple(outputs), source=source, notes=notes)


def check_outputs_vary(Y: np.ndarray, outputs: list[str], *, source: str = "the samples") -> None:
    """Raise a :class:`DataError` naming the first of the q ``outputs`` whose column of ``Y`` (n, q) is constant:
    its sensitivity indices are shares of a zero variance (undefined), and ``indices.enabled: false`` still gives
    its gradients (all 0).

    Args:
        Y: the outputs' samples (n, q); outputs: their q names; source: the file or model they come from.
    """
    Y = np.asarray(Y, dtype=float).reshape(len(Y), -1)
    for j, out in enumerate(outputs):
        if len(Y) and np.ptp(Y[:, j]) == 0:
            raise DataError(
                f"{source}: output column '{out}' is constant ({Y[0, j]:.6g} in all {len(Y)} samples): its sensitivity"
                " indices are undefined (shares of zero variance); set indices.enabled: false to estimate its"
                " gradients only"
            )


def _left_out(column: pd.Series) -> bool:
    """Whether a column without a header is left out of the default roles: a saved row index
    (:func:`_saved_index`) or empty (a trailing separator on every line, as spreadsheets export)."""
    return _unnamed(column) and (_saved_index(column) or bool(column.isna().all()))


def _left_out_note(source: str, column: pd.Series, option: str) -> str:
    """The note that ``column`` of ``source`` was left out of the default roles (:func:`_left_out`), and the
    ``option`` that uses it."""
    what = "is empty (a separator at the end of every line?)" if column.isna().all() else (
        "is a saved row index (unnamed, a distinct whole number per row)"
    )
    return f"{source}: column '{column.name}' {what}; it was left out (list it in {option} to use it)"


def _unnamed(column: pd.Series) -> bool:
    """Whether the file gave ``column`` no header (pandas names it ``Unnamed: <position>``)."""
    return str(column.name).startswith("Unnamed: ") or str(column.name) == ""


def _saved_index(column: pd.Series) -> bool:
    """Whether ``column`` is a row index a table writer saved (pandas' ``to_csv`` default): unnamed (pandas reads
    it as ``Unnamed: 0``) and a distinct whole number on every row (counting the rows, or the labels of a filtered,
    thinned or reordered table's rows)."""
    if not _unnamed(column) or len(column) < 2:
        return False
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
    whole = np.all(np.isfinite(values)) and np.all(values == np.round(values))
    return bool(whole and np.unique(values).size == values.size)


def _point_array(path: Path, names: Sequence[str], field: str) -> np.ndarray:
    """The raw (m, d) points of a ``.npy`` file (no pickles) or a table with one column per name."""
    if path.suffix.lower() == ".npy":
        try:
            points = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError) as exc:
            raise DataError(f"{path}: {field} cannot be read as a .npy array ({' '.join(str(exc).split())})") from exc
        points = points[:, None] if points.ndim == 1 and len(names) == 1 else points
        if points.ndim != 2 or points.shape[1] != len(names) or not np.issubdtype(points.dtype, np.number):
            raise DataError(
                f"{path}: {field} holds a {points.dtype} array of shape {points.shape}; expected numbers of shape"
                f" (points, {len(names)}), one column per input {list(names)}"
            )
        return points.astype(float)
    frame = _read_table(path)
    frame.columns = [str(c) for c in frame.columns]
    missing = [name for name in names if name not in frame.columns]
    if missing:
        raise DataError(
            f"{path}: {field} has no column(s) {missing}; expected one column per input {list(names)}, the file"
            f" has {list(frame.columns)}"
        )
    return np.column_stack([_numeric_column(frame, name, str(path)) for name in names])


def load_points(path: str | Path, names: Sequence[str], *, field: str = "points") -> np.ndarray:
    """Read a list of points (where to estimate gradients, where to check one) from a file.

    Args:
        path: a ``.csv``/``.tsv`` (optionally compressed) or ``.parquet`` table with a column per name (other
            columns are ignored), or a ``.npy`` array of shape (m, d) in the order of ``names``.
        names: the d input names, in order.
        field: the config field the file was named in, for messages (e.g. ``gradient.at``).

    Returns:
        The points, shape (m, d), finite floats.

    Raises:
        DataFileNotFoundError: the file does not exist.
        DataError: unreadable, a column missing, a value non-numeric or not finite, or no rows.
    """
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path}: {field} names a folder, not a file of points")
    if not path.is_file():
        raise DataFileNotFoundError(f"{path}: {field} file not found")
    points = _point_array(path, names, field)
    if points.shape[0] == 0:
        raise DataError(f"{path}: {field} holds no points (expected at least one row)")
    bad = ~np.isfinite(points)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise DataError(
            f"{path}: {field} column '{names[col]}' has {points[row, col]} at data row {row + 1} (expected finite"
            " numbers)"
        )
    return points
