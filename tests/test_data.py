from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.data import load_timeseries
from pipeline.errors import DataError, DataFileNotFoundError

ROOT = Path(__file__).resolve().parents[1]


def _write(tmp_path: Path, text: str, name: str = "d.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_reads_the_real_lynx_hare_record() -> None:
    series = load_timeseries(ROOT / "data/hudson-bay-lynx-hare.csv", time_column="year", state_columns=["hare", "lynx"])
    assert series.x.shape == (21, 2)
    assert series.names == ("hare", "lynx")
    assert series.t[0] == 1900 and series.x[0, 0] == 30.0


def test_parquet_and_csv_agree(tmp_path: Path) -> None:
    frame = pd.DataFrame({"t": np.arange(6.0), "u": np.arange(6.0) ** 2, "v": np.sin(np.arange(6.0))})
    frame.to_parquet(tmp_path / "d.parquet")
    frame.to_csv(tmp_path / "d.csv", index=False)
    a = load_timeseries(tmp_path / "d.parquet", time_column="t")
    b = load_timeseries(tmp_path / "d.csv", time_column="t")
    np.testing.assert_allclose(a.x, b.x)
    assert a.names == ("u", "v")


def test_trajectories_are_split_in_order_of_appearance(tmp_path: Path) -> None:
    rows = [f"{k},{i},{i * (k + 1)}" for k in (1, 0) for i in range(6)]
    path = _write(tmp_path, "run,t,u\n" + "\n".join(rows) + "\n")
    series = load_timeseries(path, time_column="t", trajectory_column="run")
    assert series.n_trajectories == 2 and series.trajectory_labels == [1, 0]
    assert [len(t) for t in series.t_list()] == [6, 6]
    np.testing.assert_allclose(series.trajectories()[0].x[:, 0], 2 * np.arange(6))


def test_each_trajectory_keeps_its_known_inputs(tmp_path: Path) -> None:
    """Split off a panel, a trajectory lost its input column: discovered on its own, it gave a model without u."""
    rows = [f"{k},{i},{i * (k + 1)},{10 * k + i}" for k in (1, 0) for i in range(6)]
    path = _write(tmp_path, "run,t,x,force\n" + "\n".join(rows) + "\n")
    series = load_timeseries(path, time_column="t", trajectory_column="run", control_columns=["force"])
    first, second = series.trajectories()
    assert first.control_names == second.control_names == ("force",)
    np.testing.assert_allclose(first.u[:, 0], 10 + np.arange(6))
    np.testing.assert_allclose(second.u[:, 0], np.arange(6))


def test_irregular_sampling_is_allowed(tmp_path: Path) -> None:
    path = _write(tmp_path, "t,u\n0,1\n0.1,2\n0.5,3\n0.6,4\n2,5\n")
    assert load_timeseries(path, time_column="t").n_samples == 5


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("t,u\n0,1\n1,2\n1,3\n2,4\n3,5\n", r"duplicate time 1.0 at data row 3"),
        ("t,u\n0,1\n2,2\n1,3\n3,4\n4,5\n", r"decreasing time 1.0 at data row 3 .*\(sort the rows by time\)"),
        ("t,u\n0,1\n1,2\n2,x\n3,4\n4,5\n", r"column 'u' has a non-numeric value 'x' at data row 3"),
        ("t,u\n0,1\n1,\n2,3\n3,4\n4,5\n", r"column 'u' has nan at data row 2"),
        ("t,u\n0,1\n1,inf\n2,3\n3,4\n4,5\n", r"column 'u' has inf at data row 2"),
        ("t,u\n0,1\n1,1\n2,1\n3,1\n4,1\n", r"column 'u' is constant"),
        ("t,u\n0,1\n1,2\n", r"2 samples; at least 3"),
        ("t,u\n", r"no data rows"),
        ("", r"the file is empty"),
    ],
)
def test_bad_tables_raise_data_errors_naming_the_problem(tmp_path: Path, text: str, match: str) -> None:
    with pytest.raises(DataError, match=match):
        load_timeseries(_write(tmp_path, text), time_column="t")


def test_a_column_in_two_roles_is_refused_before_reading_values(tmp_path: Path) -> None:
    path = _write(tmp_path, "t,x,traj\n" + "".join(f"{k},{k * k},0\n" for k in range(6)))
    with pytest.raises(DataError, match=r"column 't' is given as both time and state"):
        load_timeseries(path, time_column="t", state_columns=["t", "x"])
    with pytest.raises(DataError, match=r"column 'traj' is given as both trajectory and control"):
        load_timeseries(path, time_column="t", state_columns=["x"], trajectory_column="traj", control_columns=["traj"])
    with pytest.raises(DataError, match=r"column 'x' is given twice as a state column"):
        load_timeseries(path, time_column="t", state_columns=["x", "x"])


def test_an_error_inside_a_trajectory_names_its_label_and_the_file_row(tmp_path: Path) -> None:
    rows = [f"{k},{1 + k},7" for k in range(6)] + [f"{k},{1 + k},8" for k in range(6)]
    rows[9] = "3,,8"  # data row 10: trajectory 8's fourth sample
    path = _write(tmp_path, "t,x,traj\n" + "\n".join(rows) + "\n")
    with pytest.raises(DataError, match=r"\(trajectory 8\): column 'x' has nan at data row 10 "):
        load_timeseries(path, time_column="t", trajectory_column="traj")


def test_a_blank_time_cell_names_the_files_own_time_column(tmp_path: Path) -> None:
    rows = [f"{k / 10},{np.exp(-k / 10)},{k}" for k in range(20)]
    rows[9] = f",{np.exp(-0.9)},9"  # data row 10
    path = _write(tmp_path, "when,u,c\n" + "\n".join(rows) + "\n")
    with pytest.raises(DataError, match=r"column 'when' has nan at data row 10 ") as caught:
        load_timeseries(path, time_column="when", state_columns=["u"])
    assert "'time'" not in str(caught.value)
    huge = _write(tmp_path, "when,u\n" + "".join(f"{k}e200,{np.exp(-k)}\n" for k in range(1, 9)), "huge.csv")
    with pytest.raises(DataError, match=r"column 'when' has magnitude 8e\+200"):
        load_timeseries(huge, time_column="when")
    rows[9] = "0.9,0.4,"  # now the control is blank in data row 10
    controlled = _write(tmp_path, "t,u,c\n" + "\n".join(rows) + "\n", "controlled.csv")
    with pytest.raises(DataError, match=r"control column 'c' has nan at data row 10 "):
        load_timeseries(controlled, control_columns=["c"])


def test_a_control_column_constant_in_every_row_is_refused_naming_it(tmp_path: Path) -> None:
    rows = [f"{k // 10},{k % 10},{np.exp(-(k % 10) / 10)},2.5,{k // 10}" for k in range(30)]
    path = _write(tmp_path, "run,t,x,heat,dose\n" + "\n".join(rows) + "\n")
    refused = r"control column 'heat' is constant \(2.5\) in every row.*data.control_columns"
    with pytest.raises(DataError, match=refused):
        load_timeseries(path, trajectory_column="run", state_columns=["x"], control_columns=["dose", "heat"])
    (tmp_path / "huge.csv").write_text(path.read_text().replace(",2.5,", ",2.5e200,"))
    with pytest.raises(DataError, match=r"control column 'heat' has magnitude 2.5e\+200, outside \[1e-150, 1e\+150\]"):
        load_timeseries(tmp_path / "huge.csv", trajectory_column="run", state_columns=["x"], control_columns=["heat"])
    # constant within each trajectory but not across them: the trajectories show its effect
    series = load_timeseries(path, trajectory_column="run", state_columns=["x"], control_columns=["dose"])
    assert series.control_names == ("dose",) and sorted(set(series.u[:, 0])) == [0.0, 1.0, 2.0]


def test_repeated_or_decreasing_dates_are_named_as_the_file_writes_them(tmp_path: Path) -> None:
    """Not as the minutes since the earliest timestamp they became ("duplicate time 47.51 ...")."""
    stamps = ["2024-03-01T00:00:00", "2024-03-01T00:10:00", "2024-03-01T00:21:30", "2024-03-01T00:21:30"]
    rows = [f"a,{s},{k + 1}" for k, s in enumerate(stamps)] + [f"b,{s},{k + 1}" for k, s in enumerate(stamps[:3])]
    path = _write(tmp_path, "run,when,x\n" + "\n".join(rows) + "\n")
    repeated = r"\(trajectory 'a'\): duplicate time 2024-03-01T00:21:30 at data row 4 \(after 2024-03-01T00:21:30\)"
    with pytest.raises(DataError, match=repeated):
        load_timeseries(path, time_column="when", trajectory_column="run")
    frame = pd.read_csv(path).drop(index=3)
    frame["when"] = pd.to_datetime(frame["when"])
    frame.iloc[[1, 2], 1] = frame.iloc[[2, 1], 1].to_numpy()  # trajectory a's second and third samples swapped
    frame.to_parquet(tmp_path / "swapped.parquet")
    swapped = r"decreasing time 2024-03-01 00:10:00 at data row 3 \(after 2024-03-01 00:21:30\); times must strictly"
    with pytest.raises(DataError, match=swapped + r" increase \(sort the rows by time\)"):
        load_timeseries(tmp_path / "swapped.parquet", time_column="when", trajectory_column="run")


def test_trajectory_labels_of_mixed_types_are_told_apart_in_order_of_appearance() -> None:
    """A Python frame's id column may hold 1 and "b": sorting them to group the rows raised a bare TypeError."""
    from pipeline.data import TimeSeries

    t = np.array([0.0, 1.0, 2.0, 0.0, 1.0, 2.0, 3.0])
    series = TimeSeries(
        t=t, x=np.exp(-t)[:, None], names=("x",), trajectory=np.array(["b", "b", "b", 1, 1, 1, 1], dtype=object)
    )
    assert series.trajectory_labels == ["b", 1] and [len(ti) for ti in series.t_list()] == [3, 4]
    with pytest.raises(DataError, match=r"<array> \(trajectory 'b'\): 3 samples; at least 5 are needed"):
        series.require_samples(5, "at least 5 are needed")


def test_a_true_false_state_column_is_refused_and_a_true_false_input_is_read_as_0_and_1(tmp_path: Path) -> None:
    """A Parquet (or CSV) flag column was read as a 0/1 state and modelled without a word."""
    t = np.linspace(0, 3, 12)
    frame = pd.DataFrame({"t": t, "x": np.exp(-t), "valve": t > 1.5})
    frame.to_parquet(tmp_path / "flags.parquet")
    flag = r"state column 'valve' holds True/False values \(expected numbers .* data.control_columns\); it was taken"
    with pytest.raises(DataError, match=flag + r" as a state because data.state_columns is not given"):
        load_timeseries(tmp_path / "flags.parquet")
    series = load_timeseries(tmp_path / "flags.parquet", control_columns=["valve"])
    assert series.names == ("x",) and sorted(set(series.u[:, 0])) == [0.0, 1.0]


def test_times_that_restart_hint_at_a_trajectory_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "t,x\n" + "".join(f"{k % 5},{k + 1}\n" for k in range(10)))
    with pytest.raises(DataError, match=r"decreasing time 0.0 at data row 6 .*name their column in trajectory_column"):
        load_timeseries(path, time_column="t")


def test_missing_columns_are_listed(tmp_path: Path) -> None:
    path = _write(tmp_path, "time,u\n0,1\n1,2\n2,3\n3,4\n4,5\n")
    expected = r"missing column\(s\) \['t'\] \(data.time_column, 't' unless .*\); \['w'\] \(data.state_columns\)"
    with pytest.raises(DataError, match=expected):
        load_timeseries(path, time_column="t", state_columns=["w"])


def test_a_semicolon_csv_with_decimal_commas_and_spaced_names_is_read(tmp_path: Path) -> None:
    t = np.arange(12.0)
    rows = "".join(f"{a:g};{np.exp(-a / 4):.4f}\n".replace(".", ",") for a in t)
    series = load_timeseries(_write(tmp_path, "t; u\n" + rows), time_column="t")  # a spreadsheet's export
    assert series.names == ("u",)
    np.testing.assert_allclose(series.x[:, 0], np.exp(-t / 4), atol=1e-4)


def test_missing_file_and_unsupported_type(tmp_path: Path) -> None:
    with pytest.raises(DataFileNotFoundError, match="absent.csv: data file not found"):
        load_timeseries(tmp_path / "absent.csv", time_column="t")
    with pytest.raises(DataError, match="unsupported file type '.xlsx'"):
        load_timeseries(_write(tmp_path, "x", "d.xlsx"), time_column="t")


def test_compressed_csv_is_read_and_a_repeated_header_is_refused(tmp_path: Path) -> None:
    import gzip

    import pytest

    from pipeline.data import load_timeseries
    from pipeline.errors import DataError

    rows = "t,u\n" + "".join(f"{0.1 * k},{2.0 - 0.1 * k}\n" for k in range(20))
    packed = tmp_path / "decay.csv.gz"
    packed.write_bytes(gzip.compress(rows.encode()))
    series = load_timeseries(packed, time_column="t")
    assert series.names == ("u",) and series.x.shape == (20, 1)
    twice = tmp_path / "twice.csv"
    twice.write_text("t,u,u\n" + "".join(f"{k},{k},{k}\n" for k in range(20)))  # pandas would call it u.1
    with pytest.raises(DataError, match=r"twice\.csv: column 'u' appears twice in the header"):
        load_timeseries(twice, time_column="t")


@pytest.mark.parametrize(
    ("stamps", "unit", "expected_t", "origin"),
    [
        (["2024-01-05", "2024-01-06", "2024-01-08", "2024-01-09", "2024-01-10"], "d", [0, 1, 3, 4, 5],
         "2024-01-05T00:00:00"),
        ([f"2024-01-05T{h:02d}:00:00" for h in range(0, 10, 2)], "h", [0, 2, 4, 6, 8], "2024-01-05T00:00:00"),
        ([f"2024-01-05 10:{m:02d}:00" for m in range(0, 50, 10)], "min", [0, 10, 20, 30, 40], "2024-01-05T10:00:00"),
        ([f"2024-01-05T10:00:{s:02d}.5" for s in range(5)], "s", [0, 1, 2, 3, 4], "2024-01-05T10:00:00.500000"),
        # mixed offsets (a clock change): instants compared in UTC, the origin given in UTC
        (["2024-03-31 00:00:00+01:00", "2024-03-31 01:30:00+01:00", "2024-03-31T03:00:00+02:00",
          "2024-03-31T02:30:00Z", "2024-03-31 05:00:00+0200"], "h", [0, 1.5, 2, 3.5, 4], "2024-03-30T23:00:00+00:00"),
    ],
)  # fmt: skip
def test_iso_dates_and_datetimes_are_measured_from_the_first_in_an_automatic_unit(
    tmp_path: Path, stamps: list[str], unit: str, expected_t: list[float], origin: str
) -> None:
    rows = "".join(f"{stamp},{np.exp(-i / 4):.6g}\n" for i, stamp in enumerate(stamps))
    series = load_timeseries(_write(tmp_path, "t,u\n" + rows), time_column="t")
    assert series.time_axis is not None
    assert (series.time_axis.unit, series.time_axis.origin) == (unit, origin)
    np.testing.assert_allclose(series.t, expected_t)


def test_a_fixed_time_unit_and_parquet_datetime_columns(tmp_path: Path) -> None:
    stamps = pd.date_range("2024-01-05", periods=8, freq="6h", tz="Europe/Berlin")
    frame = pd.DataFrame({"when": stamps, "u": np.exp(-np.arange(8.0) / 4)})
    frame.to_parquet(tmp_path / "d.parquet")
    series = load_timeseries(tmp_path / "d.parquet", time_column="when", time_unit="d")
    np.testing.assert_allclose(series.t, np.arange(8) * 0.25)
    assert series.time_axis.unit == "d" and series.time_axis.origin == "2024-01-05T00:00:00+01:00"
    assert series.time_axis.describe("when") == "when (days since 2024-01-05T00:00:00+01:00)"
    path = _write(tmp_path, "t,u\n" + "".join(f"{i},{i * i + 1}\n" for i in range(6)))
    numeric = load_timeseries(path, time_column="t", time_unit="h")
    assert numeric.time_axis is None  # numbers are used as they are, whatever time_unit says


def test_dated_trajectories_share_one_origin(tmp_path: Path) -> None:
    rows = [f"{run},2024-01-{d:02d},{np.exp(-d / 4):.6g}" for run in ("b", "a") for d in range(3 + (run == "a"), 9)]
    path = _write(tmp_path, "run,t,u\n" + "\n".join(rows) + "\n")
    series = load_timeseries(path, time_column="t", trajectory_column="run")
    assert series.time_axis.origin == "2024-01-03T00:00:00"
    assert [list(t) for t in series.t_list()] == [[0, 1, 2, 3, 4, 5], [1, 2, 3, 4, 5]]
    assert all(part.time_axis == series.time_axis for part in series.trajectories())


def test_a_saved_row_index_is_no_state(tmp_path: Path) -> None:
    t = np.linspace(0.0, 5.0, 40)
    pd.DataFrame({"t": t, "u": np.exp(-t)}).to_csv(tmp_path / "saved.csv")  # with pandas' unnamed index column
    series = load_timeseries(tmp_path / "saved.csv", time_column="t")
    assert series.names == ("u",)
    (note,) = series.notes
    assert "saved.csv: column 'Unnamed: 0' is a saved row index" in note and "in data.state_columns" in note
    listed = load_timeseries(tmp_path / "saved.csv", time_column="t", state_columns=["Unnamed: 0", "u"])
    assert listed.names == ("Unnamed: 0", "u") and listed.notes == ()


def test_the_saved_index_of_a_thinned_or_filtered_table_is_no_state_either(tmp_path: Path) -> None:
    t = np.linspace(0.0, 5.0, 80)
    frame = pd.DataFrame({"t": t, "u": np.exp(-t)})
    frame.iloc[::2].to_csv(tmp_path / "thinned.csv")  # index 0, 2, 4, ...
    frame[frame.t > 1.0].to_csv(tmp_path / "filtered.csv")  # index from 17 on
    for name in ("thinned.csv", "filtered.csv"):
        series = load_timeseries(tmp_path / name, time_column="t")
        assert series.names == ("u",)
        (note,) = series.notes
        assert f"{name}: column 'Unnamed: 0' is a saved row index" in note


def test_an_empty_unnamed_column_from_trailing_separators_is_left_out_with_a_note(tmp_path: Path) -> None:
    path = _write(tmp_path, "t,u,\n" + "".join(f"{k},{np.exp(-k / 4):.6g},\n" for k in range(12)))
    series = load_timeseries(path, time_column="t")
    assert series.names == ("u",)
    (note,) = series.notes
    assert "column 'Unnamed: 2' is empty (a separator at the end of every line?); it was left out" in note


def test_an_unnamed_column_of_measurements_stays_a_state(tmp_path: Path) -> None:
    path = _write(tmp_path, "t,u,\n" + "".join(f"{k},{k * k},{np.exp(-k / 4):.6g}\n" for k in range(12)))
    series = load_timeseries(path, time_column="t")
    assert series.names == ("u", "Unnamed: 2") and series.notes == ()


def test_a_text_column_taken_as_a_state_by_default_says_how_to_leave_it_out(tmp_path: Path) -> None:
    path = _write(tmp_path, "t,site,u\n" + "".join(f"{k},s{k},{k * k}\n" for k in range(8)))
    with pytest.raises(DataError, match=r"column 'site' has a non-numeric value 's0' .*name the states in data.state"):
        load_timeseries(path)
    series = load_timeseries(path, state_columns=["u"])
    assert series.names == ("u",)


def test_a_time_unit_for_numeric_times_is_noted_not_applied(tmp_path: Path) -> None:
    path = _write(tmp_path, "t,u\n" + "".join(f"{k},{k * k}\n" for k in range(8)))
    series = load_timeseries(path, time_unit="h")
    np.testing.assert_array_equal(series.t, np.arange(8.0))
    (note,) = series.notes
    assert "data.time_unit 'h' applies to dates and datetimes; the numeric times of 't' are used as they are" in note


def test_an_unknown_time_unit_is_a_data_error_listing_the_units(tmp_path: Path) -> None:
    path = _write(tmp_path, "when,u\n" + "".join(f"2024-01-{d:02d},{1 / d}\n" for d in range(1, 9)))
    units = re.escape("['auto', 's', 'min', 'h', 'd']")
    with pytest.raises(DataError, match=rf"time_unit 'weeks' is not a unit .*; expected one of {units}"):
        load_timeseries(path, time_column="when", time_unit="weeks")
    assert load_timeseries(path, time_column="when", time_unit="d").time_axis.unit == "d"


def test_a_folder_given_as_a_data_file_is_named_a_folder(tmp_path: Path) -> None:
    from pipeline.data import load_points, load_table

    for read in (load_timeseries, lambda p: load_table(p, outputs=["y"]), lambda p: load_points(p, ["a"])):
        with pytest.raises(DataError, match="folder") as caught:
            read(tmp_path)
        assert not isinstance(caught.value, DataFileNotFoundError) and "not found" not in str(caught.value)


def test_a_trajectory_label_from_a_numpy_array_is_shown_as_text() -> None:
    from pipeline.data import TimeSeries

    t = np.arange(6.0)
    series = TimeSeries(t=t, x=t[:, None], names=("u",), trajectory=np.array(["a"] * 3 + ["b"] * 3), source="d.csv")
    assert series.place(1) == "d.csv (trajectory 'b')"


def test_a_parquet_table_with_time_as_its_index_offers_it_as_a_column(tmp_path: Path) -> None:
    t = np.linspace(0.0, 5.0, 40)
    pd.DataFrame({"t": t, "u": np.exp(-t)}).set_index("t").to_parquet(tmp_path / "indexed.parquet")
    series = load_timeseries(tmp_path / "indexed.parquet", time_column="t")
    np.testing.assert_allclose(series.t, t)
    assert series.names == ("u",)


def test_a_tab_separated_file_named_csv_is_read_as_such(tmp_path: Path) -> None:
    t = np.linspace(0.0, 5.0, 40)
    pd.DataFrame({"t": t, "u": np.exp(-t)}).to_csv(tmp_path / "tabs.csv", sep="\t", index=False)
    series = load_timeseries(tmp_path / "tabs.csv", time_column="t")
    assert series.names == ("u",) and series.t.shape == (40,)


def test_times_neither_numbers_nor_iso_dates_say_which_dates_are_read(tmp_path: Path) -> None:
    path = _write(tmp_path, "t,u\n" + "".join(f"03/{d:02d}/2024,{1 / d}\n" for d in range(1, 9)))
    with pytest.raises(DataError, match=r"column 't' has a non-numeric value '03/01/2024' .*ISO 8601 dates"):
        load_timeseries(path)
    units = _write(tmp_path, "t,u\ns,mol/l\n" + "".join(f"{k},{1 / (k + 1)}\n" for k in range(8)))
    with pytest.raises(DataError, match=r"'s' at data row 1 .*a row of units under the header\? Remove it"):
        load_timeseries(units)
