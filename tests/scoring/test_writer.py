"""Spreadsheet-safe CSV: formula-like text is neutralised, numbers stay numbers; every table is
written as CSV, JSONL and Parquet that reload with pandas."""
import pandas as pd

from scoring.services.exports.writer import neutralise_cell, spreadsheet_safe, write_table


def test_formula_cells_are_prefixed_and_numbers_untouched():
    frame = pd.DataFrame({
        "theme": ["=SUM(A1:A9)", "+cmd", "-flag", "@import", "\tTAB", "\rCR", "road blockade",
                  "a=b"],
        "label": [-1, 0, 1, 2, -3, 4, 5, 6],
        "score": [-0.25, 0.5, 1.0, 0.0, -1.5, 0.1, 0.2, 0.3],
    })
    safe = spreadsheet_safe(frame)
    assert safe["theme"].tolist() == ["'=SUM(A1:A9)", "'+cmd", "'-flag", "'@import", "'\tTAB",
                                      "'\rCR", "road blockade", "a=b"]
    assert safe["label"].tolist() == frame["label"].tolist()
    assert safe["score"].tolist() == frame["score"].tolist()
    assert frame["theme"].iloc[0] == "=SUM(A1:A9)"          # the input is not modified
    assert neutralise_cell(-5) == -5 and neutralise_cell(None) is None


def test_write_table_round_trips(tmp_path):
    frame = pd.DataFrame({"post": ["P1", "P2"], "theme": ["=1+1", "抗议"], "label": [-1, 3],
                          "at": pd.to_datetime(["2026-01-01T10:00:00Z", "2026-01-02T11:00:00Z"])})
    csv, jsonl, parquet = write_table(frame, tmp_path / "sub" / "codes")
    from_csv = pd.read_csv(csv)
    assert from_csv["theme"].tolist() == ["'=1+1", "抗议"]
    assert from_csv["label"].tolist() == [-1, 3] and from_csv["label"].dtype.kind == "i"
    assert pd.read_json(jsonl, lines=True)["theme"].tolist() == ["=1+1", "抗议"]
    back = pd.read_parquet(parquet)
    assert back["theme"].tolist() == ["=1+1", "抗议"] and back["at"].equals(frame["at"])
