"""The run directory: ``run.json``, append-only ``records.jsonl``, ``validity.json``, model cards.

Each record is one JSON line written with a single ``write`` on a file opened for appending and
flushed to disk before the next item starts, so a killed run loses at most the item in flight; a torn
last line (the process died inside ``write``) is ignored on reading and overwritten on resume.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from audiox_bench.core.disk_cache import atomic_write_text, load_json
from audiox_bench.core.errors import AudioxError

RECORDS = "records.jsonl"
RUN = "run.json"
VALIDITY = "validity.json"
LEADERBOARD = "leaderboard.csv"
GROUP_RECORDS = "group_metrics.jsonl"  # derived from the records, rewritten whole at the end of a run

RecordKey = tuple[str, str, str, int]


def safe_file_name(text: str) -> str:
    """``text`` with every character but letters, digits and ``-_.`` replaced by ``_`` (SPECs as file names)."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)


def record_key(record: dict[str, Any]) -> RecordKey:
    """The identity of a record: (task, explainer, example_id, repeat)."""
    return (record["task"], record["explainer"], record["example_id"], int(record["repeat"]))


def read_records(path: Path) -> list[dict[str, Any]]:
    """All complete records of a run directory (a torn last line is skipped)."""
    file = Path(path) / RECORDS
    if not file.is_file():
        return []
    records = []
    with open(file, "rb") as handle:
        for line in handle:
            if not line.endswith(b"\n"):
                break  # torn write of a killed process
            try:
                records.append(json.loads(line))
            except ValueError:
                continue
    return records


def read_group_rows(path: Path) -> list[dict[str, Any]]:
    """The group-metric rows of a run directory (none if the run has not finished once)."""
    file = Path(path) / GROUP_RECORDS
    if not file.is_file():
        return []
    return [json.loads(line) for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]


def group_rows_text(rows: list[dict[str, Any]]) -> str:
    """JSON lines of group-metric rows, in a stable order."""
    return "".join(json.dumps(row, sort_keys=True, allow_nan=True, default=str) + "\n" for row in rows)


class RunStore:
    """A run directory opened for writing.

    Parameters
    ----------
    path : Path
        The directory (created if missing).
    run_info : dict
        Contents of ``run.json``; its ``"spec"`` entry identifies the run.
    overwrite : bool
        Start afresh even if the directory holds a run with a different spec.

    Raises
    ------
    AudioxError
        If the directory cannot be written, or holds a run with a different spec and ``overwrite`` is
        False.
    """

    def __init__(self, path: Path, run_info: dict[str, Any], overwrite: bool = False) -> None:
        self.path = Path(path)
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            probe = self.path / ".write-test"
            probe.write_text("")
            probe.unlink()
        except OSError as exc:
            raise AudioxError(f"cannot write to output directory {str(self.path)!r}: {exc.strerror or exc}") from exc
        existing = load_json(self.path / RUN)
        same_spec = isinstance(existing, dict) and existing.get("spec") == run_info["spec"]
        if (self.path / RUN).exists() and not overwrite and not same_spec:
            raise AudioxError(
                f"{str(self.path)!r} holds a run with a different spec; choose another --out or pass "
                "--overwrite to replace it"
            )
        if overwrite:
            for name in (RECORDS, GROUP_RECORDS, VALIDITY, LEADERBOARD, "leaderboard.md", "leaderboard.html"):
                (self.path / name).unlink(missing_ok=True)
            shutil.rmtree(self.path / "models", ignore_errors=True)
        self._truncate_torn_tail()
        self.resumed = bool(read_records(self.path))
        atomic_write_text(self.path / RUN, json.dumps(run_info, indent=2, sort_keys=True, default=str))
        self._done = {record_key(r) for r in read_records(self.path)}

    def _truncate_torn_tail(self) -> None:
        file = self.path / RECORDS
        if not file.is_file():
            return
        data = file.read_bytes()
        end = data.rfind(b"\n") + 1
        if end != len(data):
            with open(file, "r+b") as handle:
                handle.truncate(end)

    def is_done(self, key: RecordKey) -> bool:
        """Whether a record with this key is already stored."""
        return key in self._done

    def append(self, record: dict[str, Any]) -> None:
        """Store one record durably (one write, then fsync)."""
        line = (json.dumps(record, sort_keys=True, allow_nan=True, default=str) + "\n").encode("utf-8")
        fd = os.open(self.path / RECORDS, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        self._done.add(record_key(record))

    def records(self) -> list[dict[str, Any]]:
        return read_records(self.path)

    def write_json(self, name: str, data: Any) -> None:
        """Write ``name`` (relative to the run directory) atomically as JSON."""
        atomic_write_text(self.path / name, json.dumps(data, indent=2, sort_keys=True, default=str))

    def write_text(self, name: str, text: str) -> None:
        atomic_write_text(self.path / name, text)
