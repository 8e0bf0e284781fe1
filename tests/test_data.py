from __future__ import annotations

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


def test_irregular_sampling_is_allowed(tmp_path: Path) -> None:
    path = _write(tmp_path, "t,u\n0,1\n0.1,2\n0.5,3\n0.6,4\n2,5\n")
    assert load_timeseries(path, time_column="t").n_samples == 5


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("t,u\n0,1\n1,2\n1,3\n2,4\n3,5\n", r"duplicate time 1.0 at row 3"),
        ("t,u\n0,1\n2,2\n1,3\n3,4\n4,5\n", r"decreasing time 1.0 at row 3"),
        ("t,u\n0,1\n1,2\n2,x\n3,4\n4,5\n", r"column 'u' has a non-numeric value 'x' at data row 3"),
        ("t,u\n0,1\n1,\n2,3\n3,4\n4,5\n", r"column 'u' has nan at row 2"),
        ("t,u\n0,1\n1,inf\n2,3\n3,4\n4,5\n", r"column 'u' has inf at row 2"),
        ("t,u\n0,1\n1,1\n2,1\n3,1\n4,1\n", r"column 'u' is constant"),
        ("t,u\n0,1\n1,2\n", r"2 samples; at least 5"),
        ("t,u\n", r"no data rows"),
        ("", r"the file is empty"),
    ],
)
def test_bad_tables_raise_data_errors_naming_the_problem(tmp_path: Path, text: str, match: str) -> None:
    with pytest.raises(DataError, match=match):
        load_timeseries(_write(tmp_path, text), time_column="t")


def test_missing_columns_are_listed(tmp_path: Path) -> None:
    path = _write(tmp_path, "time,u\n0,1\n1,2\n2,3\n3,4\n4,5\n")
    with pytest.raises(DataError, match=r"missing column\(s\) \['t', 'w'\]; the file has \['time', 'u'\]"):
        load_timeseries(path, time_column="t", state_columns=["w"])


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
