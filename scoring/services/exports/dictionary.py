"""The export's data dictionary: ``data_dictionary.json`` (machine-readable) and ``README.md``
(for people), both made from one description (``glossary``) of the files actually written, so
the two never disagree and a file or column nobody described shows as undocumented.
"""
from __future__ import annotations

import json
from fnmatch import fnmatchcase
from pathlib import PurePosixPath

import pandas as pd

from .glossary import COLUMNS, FILES, TABLE_COLUMNS, TABLE_FORMATS, TYPES, Column

DICTIONARY_FILE = "data_dictionary.json"
README_FILE = "README.md"
MANIFEST_FILE = "manifest.json"
FORMAT = "diptych-data-dictionary/1"
UNDOCUMENTED = ""                 # the meaning of a column or file nobody described
STATA_LABEL_LIMIT = 80            # characters of a Stata variable or data label


def _lookup(entries: dict, name: str):
    if name in entries:
        return entries[name]
    for pattern, entry in entries.items():
        if "*" in pattern and fnmatchcase(name, pattern):
            return entry
    return None


def describe_column(table: str, name: str) -> Column | None:
    """The description of column ``name`` of table ``table`` (a path stem), if any."""
    own = _lookup(TABLE_COLUMNS, table) or {}
    return _lookup(own, name) or _lookup(COLUMNS, name)


def describe_file(path: str) -> str:
    stem = str(PurePosixPath(path).with_suffix(""))
    for key in (path, stem):
        if (found := _lookup(FILES, key)) is not None:
            return found
    return UNDOCUMENTED


def stata_label(text: str) -> str:
    """``text`` cut to Stata's 80 characters, at a word where it is cut."""
    if len(text) <= STATA_LABEL_LIMIT:
        return text
    return text[:STATA_LABEL_LIMIT - 1].rsplit(" ", 1)[0].rstrip(",;:(") + "…"


def _column_entry(table: str, name: str) -> dict:
    column = describe_column(table, name)
    if column is None:
        return {"name": name, "type": None, "meaning": UNDOCUMENTED, "allowed_values": None,
                "unit": ""}
    return {"name": name, "type": column.type, "meaning": column.meaning,
            "allowed_values": list(column.values) if column.values else None,
            "unit": column.unit}


def build_dictionary(tables: dict[str, pd.DataFrame], files: list[str]) -> dict:
    """The dictionary of an export: ``tables`` (path stem -> frame as written) and ``files``
    (every path in the zip, this dictionary, the README and the manifest included)."""
    files = sorted(set(files))
    entries = []
    for path in files:
        stem, suffix = str(PurePosixPath(path).with_suffix("")), PurePosixPath(path).suffix
        entry = {"path": path, "description": describe_file(path)}
        if stem in tables and suffix in TABLE_FORMATS:
            entry.update(table=stem, format=TABLE_FORMATS[suffix])
        entries.append(entry)
    described = []
    for stem, frame in tables.items():
        described.append({
            "name": stem, "description": describe_file(stem), "rows": int(len(frame)),
            "files": [f["path"] for f in entries if f.get("table") == stem],
            "columns": [_column_entry(stem, str(c)) for c in frame.columns]})
    undocumented = ([f["path"] for f in entries if f["description"] == UNDOCUMENTED] +
                    [f"{t['name']}: {c['name']}" for t in described for c in t["columns"]
                     if c["meaning"] == UNDOCUMENTED])
    return {"format": FORMAT, "types": TYPES, "formats": TABLE_FORMATS, "files": entries,
            "tables": described, "undocumented": undocumented}


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _values(column: dict) -> str:
    parts = []
    if column["allowed_values"]:
        parts.append(", ".join(f"`{v}`" for v in column["allowed_values"]))
    if column["unit"]:
        parts.append(column["unit"])
    return "; ".join(parts)


LOADING = """\
## Loading the tables

Every table comes as CSV, JSON Lines and Parquet (same rows, same columns); the coded posts also
as Stata `.dta` (format 118, UTF-8) with variable labels and value labels for `pass`, `method`
and `algorithm`. CSV text cells that start with `= + - @`, a tab or a carriage return carry a
leading `'` (spreadsheet safety); JSON Lines, Parquet and Stata keep the raw text.

Python (pandas):

```python
import pandas as pd
codes = pd.read_parquet("data/coded_posts.parquet")    # or pd.read_csv("data/coded_posts.csv")
codes = pd.read_stata("data/coded_posts.dta")          # value labels become categories
```

R:

```r
codes <- arrow::read_parquet("data/coded_posts.parquet")
codes <- haven::read_dta("data/coded_posts.dta")        # labelled columns; haven::as_factor()
codes <- readr::read_csv("data/coded_posts.csv")
```

Stata (14 or later):

```stata
use data/coded_posts.dta, clear
describe
label list
```

In Stata a missing text is empty (`""`) and timestamps are `%tc` (milliseconds, UTC); text
longer than 2,045 bytes is stored as strL.
"""


def _file_rows(dictionary: dict) -> list[tuple[str, str]]:
    """One row per file stem and description (a table's or a figure's formats side by side)."""
    suffixes: dict[tuple[str, str], list[str]] = {}
    for entry in dictionary["files"]:
        path = PurePosixPath(entry["path"])
        key = (str(path.with_suffix("")), entry["description"])
        suffixes.setdefault(key, []).append(path.suffix)
    return [(f"`{stem}{found[0]}`" if len(found) == 1 else f"`{stem}` ({' '.join(found)})", text)
            for (stem, text), found in suffixes.items()]


def render_readme(dictionary: dict, title: str = "Diptych export") -> str:
    """README.md of the export, from the same dictionary as ``data_dictionary.json``."""
    lines = [f"# {title}: data dictionary", "",
             f"Machine-readable: `{DICTIONARY_FILE}` (the same content). Provenance, versions, "
             f"seeds and the sha256 of every file: `{MANIFEST_FILE}`.", "", LOADING,
             "## Files", "", "| file | what it holds |", "| --- | --- |"]
    lines += [f"| {names} | {_cell(text)} |" for names, text in _file_rows(dictionary)]
    lines += ["", "## Types", "", "| type | meaning |", "| --- | --- |"]
    lines += [f"| {name} | {_cell(text)} |" for name, text in dictionary["types"].items()]
    lines += ["", "## Tables", ""]
    for table in dictionary["tables"]:
        files = ", ".join(f"`{PurePosixPath(p).name}`" for p in table["files"])
        lines += [f"### {table['name']}", "", f"{_cell(table['description'])} "
                  f"({table['rows']} rows; {files}).", "",
                  "| column | type | meaning | allowed values / unit |", "| --- | --- | --- | --- |"]
        lines += [f"| `{c['name']}` | {c['type'] or ''} | {_cell(c['meaning'])} | "
                  f"{_cell(_values(c))} |" for c in table["columns"]]
        lines.append("")
    return "\n".join(lines)


def dictionary_files(tables: dict[str, pd.DataFrame], written: list[str]) -> dict[str, str]:
    """File name -> text of the dictionary's two files, given the paths already written (the
    manifest, written last, and these two are listed too)."""
    dictionary = build_dictionary(tables, [*written, MANIFEST_FILE, DICTIONARY_FILE, README_FILE])
    return {DICTIONARY_FILE: json.dumps(dictionary, indent=2, ensure_ascii=False),
            README_FILE: render_readme(dictionary)}
