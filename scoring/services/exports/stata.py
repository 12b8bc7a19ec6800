"""Tables as Stata ``.dta`` (format 118: UTF-8, Stata 14 and later), typed and labelled from
the data dictionary's description of each column.

Stata has no missing text, no booleans and no time zones: missing text is written empty,
booleans as 0/1 bytes, timestamps as UTC ``%tc`` (milliseconds). Columns with allowed values
(pass, method, algorithm) become labelled integers (value labels), read back as categories by
``pandas.read_stata`` and ``haven::as_factor``. Text longer than Stata's ``str2045`` is stored
as strL.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .dictionary import describe_column, describe_file, stata_label

STATA_VERSION = 118
STR_LIMIT = 2045          # bytes of Stata's longest fixed-width string (str2045)


def _labelled(values: pd.Series, allowed: tuple) -> tuple[pd.Series, dict[int, str]]:
    """Integer codes and their value labels (given as such: pandas cannot write an empty
    categorical column)."""
    present = set(values.dropna().astype(str))
    categories = [*allowed, *sorted(present - set(allowed))]   # an unforeseen value still fits
    codes = pd.Categorical(values, categories=categories).codes
    return (pd.Series(codes, index=values.index, dtype="Int16").mask(codes < 0),
            dict(enumerate(categories)))


def _text(values: pd.Series) -> pd.Series:
    # Plain Python strings (pandas' Stata writer walks them one by one, Arrow strings several
    # times slower), one object per distinct value: a coder's or theme's name repeats.
    codes, distinct = pd.factorize(values.astype("str").fillna(""))
    return pd.Series(np.asarray(distinct, dtype=object)[codes], index=values.index, dtype=object)


def stata_frame(frame: pd.DataFrame, table: str) -> tuple[pd.DataFrame, dict]:
    """``frame`` with Stata's types, each column by its type in the data dictionary, and the
    value labels of its labelled columns."""
    out, value_labels = {}, {}
    for name in frame.columns:
        values, column = frame[name], describe_column(table, name)
        kind = column.type if column else "string"
        if kind == "timestamp":
            values = pd.to_datetime(values, utc=True).dt.tz_localize(None)
        elif kind in ("integer", "number"):
            values = pd.to_numeric(values)
            if kind == "integer":
                values = values.astype("Int64")
        elif kind == "boolean":
            values = values.astype("boolean").astype("Int8")
        elif column is not None and column.values:
            values, value_labels[name] = _labelled(values, column.values)
        else:
            values = _text(values)
        out[name] = values
    return pd.DataFrame(out, index=frame.index), value_labels


def long_text_columns(frame: pd.DataFrame) -> list[str]:
    """Text columns holding a value over Stata's str2045 (stored as strL); ``frame`` as the
    export holds it (its string columns measure in one vectorised call each)."""
    def too_long(values: pd.Series) -> bool:
        text = values.astype("str")
        if not (text.str.len() * 4 > STR_LIMIT).any():     # UTF-8: at most 4 bytes a character
            return False
        return bool((text.str.encode("utf-8").str.len() > STR_LIMIT).any())

    return [name for name in frame.columns
            if not isinstance(frame[name].dtype, pd.CategoricalDtype)
            and pd.api.types.is_string_dtype(frame[name]) and too_long(frame[name])]


def write_stata(frame: pd.DataFrame, path: Path, table: str) -> Path:
    long_text = [name for name in long_text_columns(frame)
                 if not (column := describe_column(table, name)) or not column.values]
    data, value_labels = stata_frame(frame, table)
    labels = {name: stata_label(column.meaning) for name in data.columns
              if (column := describe_column(table, name)) is not None}
    data.to_stata(path, write_index=False, version=STATA_VERSION,
                  data_label=stata_label(describe_file(table)), variable_labels=labels,
                  value_labels=value_labels, convert_strl=long_text)
    return path
