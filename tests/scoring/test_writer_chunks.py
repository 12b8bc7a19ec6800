"""Tables are written as CSV and JSONL a chunk of rows at a time (memory), and the files are the
same bytes as writing the whole frame at once (how they were written before)."""
import numpy as np
import pandas as pd
import pytest

from scoring.services.exports import writer
from scoring.services.exports.writer import iso_times, spreadsheet_safe, write_table


def whole_frame_files(frame: pd.DataFrame, stem) -> tuple[bytes, bytes]:
    text = iso_times(frame)
    spreadsheet_safe(text).to_csv(stem.with_suffix(".csv"), index=False, encoding="utf-8")
    text.to_json(stem.with_suffix(".jsonl"), orient="records", lines=True, force_ascii=False)
    return stem.with_suffix(".csv").read_bytes(), stem.with_suffix(".jsonl").read_bytes()


def a_table(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    themes = np.array(["=SUM(A1)", "road, blockade", 'said "no"', "抗议", "line\nbreak", "-x"])
    return pd.DataFrame({
        "post": [f"P{i}" for i in range(n)],
        "theme": themes[rng.integers(0, len(themes), n)],
        "note": pd.Series([None if i % 5 == 0 else (f"n{i}" if i % 2 else f"+{i}") for i in range(n)],
                          dtype=object),
        "theme_merged_id": pd.array([None if i % 7 == 0 else i for i in range(n)], dtype="Int64"),
        "lead_time_s": np.where(rng.random(n) < 0.2, np.nan, rng.random(n) * 30),
        "at": pd.to_datetime(1_780_000_000 + rng.integers(0, 10**6, n), unit="s", utc=True)
        + pd.to_timedelta(rng.integers(0, 10**6, n), unit="us"),
        "is_calibration": rng.random(n) < 0.5,
    })


@pytest.mark.parametrize("n", [0, 1, 7, 23])
def test_chunked_files_equal_the_whole_frame_written_at_once(tmp_path, monkeypatch, n):
    monkeypatch.setattr(writer, "ROWS_PER_CHUNK", 5)
    frame = a_table(n)
    expected = whole_frame_files(frame, tmp_path / "whole")
    csv, jsonl, _ = write_table(frame, tmp_path / "chunked")
    assert (csv.read_bytes(), jsonl.read_bytes()) == expected


def test_a_frame_without_columns(tmp_path, monkeypatch):
    monkeypatch.setattr(writer, "ROWS_PER_CHUNK", 5)
    expected = whole_frame_files(pd.DataFrame(), tmp_path / "whole")
    csv, jsonl, parquet = write_table(pd.DataFrame(), tmp_path / "chunked")
    assert (csv.read_bytes(), jsonl.read_bytes()) == expected and parquet.exists()


def test_text_is_formatted_a_chunk_at_a_time(tmp_path, monkeypatch):
    monkeypatch.setattr(writer, "ROWS_PER_CHUNK", 5)
    sizes = []
    monkeypatch.setattr(writer, "iso_times", lambda frame: sizes.append(len(frame)) or
                        iso_times(frame))
    write_table(a_table(23), tmp_path / "codes")
    assert sizes == [5, 5, 5, 5, 3]
