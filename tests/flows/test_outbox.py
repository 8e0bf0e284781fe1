"""The outbox refuses what MLflow would refuse, and ``sync`` publishes each queued run once, skipping
(and reporting) a damaged record instead of stopping at it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import runs_of


def _record(i: int, experiment: str = "queued") -> object:
    from flows.outbox import RunRecord

    record = RunRecord(
        experiment=experiment, run_name=f"run {i}", params={"item": str(i)}, metrics={"score": float(i)},
        files={"notes.txt": f"item {i}\n"}, created=1000.0 + i,
    )  # fmt: skip
    record.tags["deltaflow.record_id"] = record.record_id
    return record


def _cli_env(tmp_path: Path, uri: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    return env | {"MLFLOW_TRACKING_URI": uri, "DELTAFLOW_OUTBOX": str(tmp_path / "outbox"), "COLUMNS": "400"}


@pytest.mark.parametrize(
    ("change", "field"),
    [({"experiment": "x" * 600}, "experiment name"), ({"params": {"rhs.u$": "1"}}, re.escape("param key 'rhs.u$'"))],
)
def test_a_value_mlflow_refuses_is_invalid_not_queued(tmp_path: Path, change: dict, field: str) -> None:
    from flows.outbox import Outbox
    from pipeline.errors import InvalidRecordError

    record = _record(0)
    for key, value in change.items():
        setattr(record, key, value)
    box = Outbox(tmp_path / "outbox")
    with pytest.raises(InvalidRecordError, match=field) as caught:
        box.put(record)
    assert caught.value.record is record and box.pending() == []


def test_an_invalid_param_key_is_reported_by_the_tracker_not_queued(tmp_path: Path, mlflow_uri: str) -> None:
    from flows.outbox import Outbox
    from flows.tracking import Tracker
    from pipeline.errors import InvalidRecordError

    record = _record(0)
    record.params["bad key$"] = "1"
    box = Outbox(tmp_path / "outbox")
    with pytest.raises(InvalidRecordError, match="param key 'bad key\\$'") as caught:
        Tracker().publish_or_queue(record, box, delays=())
    assert box.pending() == [] and caught.value.record.run_id is not None  # the CLI closes that run FAILED


def _counting_tracker(uri: str | None = None) -> object:
    """A real :class:`Tracker` that counts its publish attempts."""
    from flows.tracking import Tracker

    class Counting(Tracker):
        attempts = 0

        def publish(self, record: object) -> tuple[str, str | None]:
            Counting.attempts += 1
            return super().publish(record)

    return Counting(uri)


def test_a_refused_value_is_not_retried(tmp_path: Path, mlflow_uri: str) -> None:
    from flows.outbox import Outbox
    from flows.tracking import RETRY_DELAYS
    from pipeline.errors import InvalidRecordError

    record = _record(0)
    record.params["bad key$"] = "1"
    tracker = _counting_tracker()
    with pytest.raises(InvalidRecordError, match="param key 'bad key\\$'"):
        tracker.publish_or_queue(record, Outbox(tmp_path / "outbox"), delays=RETRY_DELAYS)
    assert tracker.attempts == 1


def test_a_refusal_our_check_misses_is_named_from_mlflows_answer(tmp_path: Path, mlflow_uri: str) -> None:
    from flows.outbox import Outbox
    from pipeline.errors import InvalidRecordError

    tracker = _counting_tracker()
    first = _record(0)
    run_id, _ = tracker.publish(first)
    again = _record(1)  # the same run again with another value of param 'item': MLflow refuses the change
    again.run_id = run_id
    box = Outbox(tmp_path / "outbox")
    with pytest.raises(InvalidRecordError, match="item") as caught:
        tracker.publish_or_queue(again, box, delays=(0.0, 0.0))
    assert tracker.attempts == 2 and box.pending() == [] and caught.value.record is again


def test_an_unreachable_store_is_retried_a_bounded_number_of_times_then_queued(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.outbox import Outbox
    from tests.conftest import free_port

    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    tracker = _counting_tracker(f"http://127.0.0.1:{free_port()}")  # nothing listens there
    box = Outbox(tmp_path / "outbox")
    run_id, _, folder = tracker.publish_or_queue(_record(0), box, delays=(0.0, 0.0))
    assert tracker.attempts == 3 and run_id is None and box.pending() == [folder]


def test_a_store_found_unreachable_is_not_retried_again_in_the_same_process_until_it_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A batch whose MLflow is down queues its first item after the retries, the others at once (each retry
    sequence took about 17 s an item); the store is asked again (one health check) before every run."""
    import http.server
    import threading

    from flows.outbox import Outbox

    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)  # answers 501 to all
    uri = f"http://127.0.0.1:{server.server_port}"
    server.server_close()  # the port is closed: nothing listens there now
    box = Outbox(tmp_path / "outbox")
    first = _counting_tracker(uri)
    first.publish_or_queue(_record(0), box, delays=(0.0, 0.0))
    assert first.attempts == 3
    later = _counting_tracker(uri)
    with caplog.at_level("WARNING", logger="deltaflow.tracking"):
        run_id, _, folder = later.publish_or_queue(_record(1), box, delays=(0.0, 0.0))
    assert later.attempts == 0 and run_id is None and folder in box.pending()
    assert "still unreachable, as earlier in this process: queued without retrying" in caplog.text

    server = http.server.HTTPServer(("127.0.0.1", server.server_port), http.server.BaseHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()  # something answers there again
    try:
        again = _counting_tracker(uri)
        again.publish_or_queue(_record(2), box, delays=())
        assert again.attempts == 1  # asked again (and queued: this server is no MLflow)
        from flows.tracking import _answers

        assert _answers(uri.replace("http://", "http://user:secret@"))  # credentials in the URI: asked without them
    finally:
        server.shutdown()
        server.server_close()


def test_an_experiment_name_over_mlflows_limit_is_a_config_error(tmp_path: Path) -> None:
    from pipeline.config import load_config
    from pipeline.errors import ConfigError

    path = tmp_path / "c.yaml"
    path.write_text(f"name: a\ndata:\n  path: d.csv\ntracking:\n  experiment: {'x' * 501}\n")
    with pytest.raises(ConfigError, match="tracking.experiment"):
        load_config(path)


def test_sync_skips_damaged_records_and_publishes_the_rest_once(tmp_path: Path, mlflow_uri: str) -> None:
    from flows.outbox import Outbox
    from flows.sync import sync_outbox
    from flows.tracking import Tracker

    box = Outbox(tmp_path / "outbox")
    folders = [box.put(_record(i)) for i in range(4)]
    (folders[0] / "record.json").write_text("{not json")
    next((folders[1] / "files").iterdir()).unlink()  # a missing artifact file
    meta = json.loads((folders[2] / "record.json").read_text())
    (folders[2] / "record.json").write_text(json.dumps(meta | {"params": {"a$": "1"}}))  # queued by an old version
    report = sync_outbox(Tracker(), box)
    assert [name for name, _ in report.published] == [folders[3].name] and report.stopped_by is None
    reasons = {name: reason for name, reason, _ in report.skipped}
    assert "damaged outbox record" in reasons[folders[0].name]
    assert "unreadable outbox record" in reasons[folders[1].name] and "No such file" in reasons[folders[1].name]
    assert "param key 'a$'" in reasons[folders[2].name]
    assert box.pending() == [] and len(list((box.root / ".quarantine").iterdir())) == 3
    assert sync_outbox(Tracker(), box).published == []
    (run,) = runs_of(mlflow_uri, "queued")
    assert run.info.status == "FINISHED" and run.data.params["item"] == "3"


def test_a_record_already_published_by_a_dead_sync_is_not_published_again(tmp_path: Path, mlflow_uri: str) -> None:
    from flows.outbox import Outbox
    from flows.sync import sync_outbox
    from flows.tracking import Tracker

    box = Outbox(tmp_path / "outbox")
    record = _record(0)
    folder = box.put(record)
    first, _ = Tracker().publish(box.load(folder))  # a sync published it, then died before removing it
    report = sync_outbox(Tracker(), box)
    assert report.published == [(folder.name, first)] and box.pending() == []
    assert len(runs_of(mlflow_uri, "queued")) == 1


def test_two_concurrent_syncs_publish_each_run_once_and_a_missing_file_is_one_line(
    tmp_path: Path, mlflow_uri: str
) -> None:
    from flows.outbox import Outbox
    from flows.tracking import Tracker

    Tracker()  # create the store once, before two processes touch it
    box = Outbox(tmp_path / "outbox")
    folders = [box.put(_record(i)) for i in range(6)]
    next((folders[2] / "files").iterdir()).unlink()
    command = [sys.executable, "-m", "flows", "sync"]
    env = _cli_env(tmp_path, mlflow_uri)
    procs = [subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]  # fmt: skip
    outputs = [proc.communicate(timeout=600) for proc in procs]
    runs = runs_of(mlflow_uri, "queued")
    assert sorted(run.data.params["item"] for run in runs) == ["0", "1", "3", "4", "5"]  # each once
    errors = "".join(err for _, err in outputs)
    assert "Traceback" not in errors
    lines = [line for line in errors.splitlines() if line.strip()]
    assert len(lines) == 1 and folders[2].name in lines[0] and "No such file" in lines[0], errors
    assert sorted(proc.returncode for proc in procs) == [0, 1]  # the one that found the damaged record says so


def test_sync_replays_each_run_into_the_store_it_was_queued_for_not_the_current_one(
    tmp_path: Path, mlflow_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run queued while a tracking server was down is not replayed into whatever store the shell now defaults
    to: it waits for its own store (one line naming it), goes there once it answers, or elsewhere with --to."""
    from flows.outbox import Outbox
    from flows.tracking import Tracker
    from tests.conftest import free_port

    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    env = _cli_env(tmp_path, mlflow_uri) | {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"}

    def sync(*options: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "flows", "sync", *options], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=600)  # fmt: skip

    server = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    box = Outbox(tmp_path / "outbox")
    _, _, folder = Tracker(server).publish_or_queue(_record(0, "down"), box, delays=())
    assert box.load(folder).tracking_uri == server
    out = sync()
    assert out.returncode == 1 and f"MLflow at {server}" in out.stderr and "still queued" in out.stderr, out.stderr
    assert box.pending() == [folder] and runs_of(mlflow_uri, "down") == []  # not written to the current store
    out = sync("--to", mlflow_uri)  # the user's explicit choice: replay it here
    assert out.returncode == 0 and f"1 run(s) written to {mlflow_uri}" in out.stdout, out.stdout + out.stderr
    assert box.pending() == [] and len(runs_of(mlflow_uri, "down")) == 1

    original = f"sqlite:///{(tmp_path / 'original.db').as_posix()}"  # a store that answers again
    record = _record(1, "elsewhere")
    record.tracking_uri = original  # as publish_or_queue noted it when that store was unreachable
    box.put(record)
    out = sync()
    assert out.returncode == 0, out.stderr
    assert f"1 run(s) written to {original}" in out.stdout
    assert f"note: replayed into {original}, the store(s) those runs were queued for, not the current" in out.stderr
    assert len(runs_of(original, "elsewhere")) == 1 and runs_of(mlflow_uri, "elsewhere") == []


def test_a_store_that_does_not_answer_holds_back_only_its_own_runs(
    tmp_path: Path, mlflow_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Runs queued for a server still down wait (in order, named in one line per store); runs queued for a store
    that answers are replayed in the same sync, before and after them."""
    from flows.outbox import Outbox
    from tests.conftest import free_port

    env = _cli_env(tmp_path, mlflow_uri) | {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"}
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    box = Outbox(tmp_path / "outbox")
    records = [_record(i, "mixed") for i in range(4)]
    for i, record in enumerate(records):
        record.tracking_uri = down if i in (0, 2) else mlflow_uri
        box.put(record)
    out = subprocess.run([sys.executable, "-m", "flows", "sync"], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=600)  # fmt: skip
    assert out.returncode == 1
    assert sorted(run.data.params["item"] for run in runs_of(mlflow_uri, "mixed")) == ["1", "3"]
    assert [box.load(folder).params["item"] for folder in box.pending()] == ["0", "2"]
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and f"2 run(s) for {down} still queued" in lines[0]
    assert f"MLflow at {down} does not answer (connection refused: no server listens there)" in lines[0]
    assert len(lines[0]) < 400  # not urllib3's 500-character retry report


def test_a_queued_record_notes_its_store_without_a_password() -> None:
    from flows.outbox import RunRecord, without_password
    from flows.sync import target_uri

    assert without_password("https://me:secret@mlflow.example:5000/x") == "https://me@mlflow.example:5000/x"
    assert without_password("sqlite:////tmp/mlflow.db") == "sqlite:////tmp/mlflow.db"
    record = RunRecord(experiment="e", run_name="r", tracking_uri="https://me@mlflow.example:5000/x")
    assert target_uri(record, "https://me:secret@mlflow.example:5000/x") == "https://me:secret@mlflow.example:5000/x"
    assert target_uri(record, "sqlite:////tmp/mlflow.db") == "https://me@mlflow.example:5000/x"
    assert target_uri(RunRecord(experiment="e", run_name="r"), "sqlite:////tmp/m.db") == "sqlite:////tmp/m.db"


def test_a_failure_caused_by_an_interrupt_names_the_interrupt_first() -> None:
    """Ctrl-C landing while Prefect's engine sets up a task surfaces as the engine's follow-on ValueError: the run's
    error says it was interrupted, then what followed; an ordinary error is recorded as it is."""
    from flows.outbox import RunRecord

    record = RunRecord(experiment="e", run_name="r")
    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise ValueError("Task run is not set")  # noqa: B904 - the engine's follow-on error, context implicit
    except ValueError as follow_on:
        record.fail(follow_on)
    assert record.status == "FAILED"
    assert record.tags["error"] == (
        "KeyboardInterrupt (the run was interrupted: Ctrl-C or SIGINT) (then ValueError: Task run is not set)"
    )
    alone = RunRecord(experiment="e", run_name="r")
    alone.fail(KeyboardInterrupt())
    assert alone.tags["error"] == "KeyboardInterrupt (the run was interrupted: Ctrl-C or SIGINT)"
    plain = RunRecord(experiment="e", run_name="r")
    plain.fail(ValueError("bad column 'x'"))
    assert plain.tags["error"] == "ValueError: bad column 'x'"
