"""The run directory: ``run.json``, append-only ``records.jsonl``, ``validity.json``, model cards.

Each record is one JSON line written with a single ``write`` on a file opened for appending and
flushed to disk before the next item starts, so a killed run loses at most the item in flight; a torn
last line (the process died inside ``write``) is ignored on reading and overwritten on resume. When a
run ends its records are rewritten whole, compressed (``records.jsonl.gz``, reproducibly: no time stamp)
once they pass :data:`COMPRESS_ABOVE` bytes, so a published run directory carries its records and every
table can be rebuilt from it; readers take both files, the plain one's lines after the compressed ones.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from audiox_bench.core.documents import ModelCard, RunInfo, TaskValidity, validity_of
from audiox_bench.core.errors import AudioxError
from audiox_bench.core.files import atomic_write_bytes, atomic_write_text, load_json
from audiox_bench.core.records import (
    GroupRow,
    Record,
    group_rows_text,
    parse_group_rows,
    parse_records,
)

RECORDS = "records.jsonl"
COMPRESSED_RECORDS = "records.jsonl.gz"
COMPRESS_ABOVE = 1_000_000  # bytes of records a finished run keeps compressed
RUN = "run.json"
VALIDITY = "validity.json"
LEADERBOARD = "leaderboard.csv"
GROUP_RECORDS = "group_metrics.jsonl"  # derived from the records, rewritten whole at the end of a run
TABLES = ("leaderboard.csv", "overall.csv", "tests.csv", "costs.csv", "leaderboard.md", "leaderboard.html")
FIGURES = "figures"  # PNGs of the page's figures


def safe_file_name(text: str) -> str:
    """``text`` with every character but letters, digits and ``-_.`` replaced by ``_`` (SPECs as file names)."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)


def read_records(path: Path) -> list[Record]:
    """The complete records of a run directory, the latest per key (a torn last line is skipped):
    ``records.jsonl.gz`` first, then ``records.jsonl`` (what a resumed run appended since)."""
    data = b""
    compressed, plain = Path(path) / COMPRESSED_RECORDS, Path(path) / RECORDS
    if compressed.is_file():
        data += gzip.decompress(compressed.read_bytes())
    if plain.is_file():
        data += plain.read_bytes()
    return list({record.key: record for record in parse_records(data)}.values())


def read_group_rows(path: Path) -> list[GroupRow]:
    """The group-metric rows of a run directory (none if the run has not finished once)."""
    file = Path(path) / GROUP_RECORDS
    return parse_group_rows(file.read_text(encoding="utf-8")) if file.is_file() else []


def read_run_info(path: Path) -> RunInfo:
    """``run.json`` of a run directory.

    Raises
    ------
    AudioxError
        If ``path`` holds no readable ``run.json``.
    """
    info = load_json(Path(path) / RUN)
    if not isinstance(info, dict):
        raise AudioxError(f"{str(path)!r} is not a run directory (no readable run.json)")
    return RunInfo.from_dict(info)


def read_validity(path: Path) -> dict[str, TaskValidity]:
    """``validity.json`` of a run directory, per task (empty if there is none)."""
    data = load_json(Path(path) / VALIDITY)
    return validity_of(data) if isinstance(data, dict) else {}


def is_run_directory(path: Path) -> bool:
    """Whether ``path`` holds a run (its ``run.json`` or records)."""
    return any((Path(path) / name).is_file() for name in (RUN, RECORDS, COMPRESSED_RECORDS))


class RunStore:
    """A run directory opened for writing.

    Parameters
    ----------
    path : Path
        The directory (created if missing).
    overwrite : bool
        Delete the records, tables and model cards it holds.

    Raises
    ------
    AudioxError
        If the directory cannot be written, or is a non-empty folder that is not a run directory.
    """

    def __init__(self, path: Path, overwrite: bool = False) -> None:
        self.path = Path(path)
        if self.path.is_dir() and not is_run_directory(self.path):
            entries = sorted(p.name for p in self.path.iterdir())
            if entries:  # a user's folder (their stems, their results): never written into by surprise
                raise AudioxError(
                    f"--out {str(self.path)!r} is not empty and is not a run directory (it holds {entries[0]!r}); "
                    "give a new or empty folder"
                )
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            probe = self.path / ".write-test"
            probe.write_text("")
            probe.unlink()
        except OSError as exc:
            raise AudioxError(f"cannot write to output directory {str(self.path)!r}: {exc.strerror or exc}") from exc
        if overwrite:
            for name in (RUN, RECORDS, COMPRESSED_RECORDS, GROUP_RECORDS, VALIDITY, *TABLES):
                (self.path / name).unlink(missing_ok=True)
            shutil.rmtree(self.path / "models", ignore_errors=True)
            shutil.rmtree(self.path / FIGURES, ignore_errors=True)
        self._truncate_torn_tail()

    def existing_info(self) -> RunInfo | None:
        """``run.json`` of a run the directory already holds, if any."""
        info = load_json(self.path / RUN)
        return RunInfo.from_dict(info) if isinstance(info, dict) else None

    def _truncate_torn_tail(self) -> None:
        file = self.path / RECORDS
        if not file.is_file():
            return
        data = file.read_bytes()
        end = data.rfind(b"\n") + 1
        if end != len(data):
            with open(file, "r+b") as handle:
                handle.truncate(end)

    def append(self, record: Record) -> None:
        """Store one record durably (one write, then fsync)."""
        line = (record.to_json() + "\n").encode("utf-8")
        fd = os.open(self.path / RECORDS, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)  # less the umask
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)

    def records(self) -> list[Record]:
        """The latest record of every key (a retried or redone item supersedes its earlier record)."""
        return read_records(self.path)

    def compact(self, records: list[Record]) -> None:
        """Rewrite the records as exactly ``records`` (atomically), dropping superseded lines: as
        ``records.jsonl``, or ``records.jsonl.gz`` above :data:`COMPRESS_ABOVE` bytes (the other removed)."""
        data = "".join(record.to_json() + "\n" for record in records).encode("utf-8")
        if len(data) > COMPRESS_ABOVE:
            atomic_write_bytes(self.path / COMPRESSED_RECORDS, gzip.compress(data, compresslevel=9, mtime=0))
            (self.path / RECORDS).unlink(missing_ok=True)
        else:
            atomic_write_bytes(self.path / RECORDS, data)
            (self.path / COMPRESSED_RECORDS).unlink(missing_ok=True)

    def write_json(self, name: str, data: Any) -> None:
        """Write ``name`` (relative to the run directory) atomically as JSON."""
        atomic_write_text(self.path / name, json.dumps(data, indent=2, sort_keys=True, default=str))

    def write_text(self, name: str, text: str) -> None:
        atomic_write_text(self.path / name, text)

    def write_group_rows(self, rows: list[GroupRow]) -> None:
        self.write_text(GROUP_RECORDS, group_rows_text(rows))

    def write_run_info(self, info: RunInfo) -> None:
        self.write_json(RUN, info.to_dict())

    def write_validity(self, validity: Mapping[str, TaskValidity]) -> None:
        self.write_json(VALIDITY, {task: entry.to_dict() for task, entry in validity.items()})

    def write_model_card(self, task: str, card: ModelCard) -> None:
        self.write_json(f"models/{safe_file_name(task)}.json", card.to_dict())
