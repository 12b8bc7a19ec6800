"""Inter-coder reliability: Krippendorff's α (nominal, the ``krippendorff`` package) and
percent agreement, on the merged post themes of clusters coded by several coders.

* Units are sampled posts × pass (one pass per call or group); raters are coders; values are
  merged theme ids (nominal). Posts coded by one coder only stay in the matrix (the package
  ignores them) but do not count as pairable.
* Percent agreement: for each post coded by at least two coders, the share of coder pairs that
  gave the same theme; averaged over those posts.
* Undefined cases never raise and never give NaN: ``alpha`` is None and ``message`` says why
  (fewer than two coders on any post; or one theme only among the pairable posts, where the
  expected disagreement is 0 and α is 0/0 — agreement is then 100%).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
import krippendorff
import numpy as np
import pandas as pd

from .consistency import in_pass_order

NEEDS_TWO_CODERS = "undefined: no post was coded by two or more coders"
ONE_VALUE_ONLY = "undefined: every pairable post got the same theme (one value only)"


@dataclass
class Reliability:
    alpha: float | None
    percent_agreement: float | None
    n_coders: int
    n_units: int
    n_pairable_units: int
    message: str = ""

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def display(self) -> str:
        return f"{self.alpha:.3f}" if self.alpha is not None else self.message


def reliability_matrix(codes: pd.DataFrame) -> pd.DataFrame:
    """coders × units (post × pass) of merged theme ids, NaN where a coder did not code a unit."""
    values = codes.assign(value=codes["theme_merged_id"].astype(float))
    return values.pivot_table(index="coder", columns=["post", "pass"], values="value",
                              aggfunc="first")


def percent_agreement(matrix: np.ndarray) -> float | None:
    """Mean over units coded by two or more coders of the share of agreeing coder pairs; from
    the value counts per unit (a value given c times makes c(c-1)/2 agreeing pairs)."""
    coder_idx, unit_idx = np.nonzero(~np.isnan(matrix))
    if unit_idx.size == 0:
        return None
    counts = pd.Series(1, index=pd.MultiIndex.from_arrays(
        [unit_idx, matrix[coder_idx, unit_idx]])).groupby(level=[0, 1]).size()
    agreeing = (counts * (counts - 1) / 2).groupby(level=0).sum()
    n = counts.groupby(level=0).sum()
    pairable = n >= 2
    if not pairable.any():
        return None
    return float((agreeing[pairable] / (n[pairable] * (n[pairable] - 1) / 2)).mean())


def reliability(codes: pd.DataFrame) -> Reliability:
    """α and percent agreement for one set of codes (one pass; one solution or more)."""
    codes = codes[codes["theme_merged_id"].notna()]
    if codes.empty:
        return Reliability(None, None, 0, 0, 0, NEEDS_TWO_CODERS)
    matrix = reliability_matrix(codes).to_numpy()
    coded_per_unit = (~np.isnan(matrix)).sum(axis=0)
    pairable = matrix[:, coded_per_unit >= 2]
    result = Reliability(None, percent_agreement(matrix), matrix.shape[0], matrix.shape[1],
                         pairable.shape[1])
    if pairable.shape[1] == 0:
        result.message = NEEDS_TWO_CODERS
    elif np.unique(pairable[~np.isnan(pairable)]).size < 2:
        result.message = ONE_VALUE_ONLY
    else:
        value = float(krippendorff.alpha(reliability_data=pairable,
                                         level_of_measurement="nominal"))
        if np.isfinite(value):
            result.alpha = value
        else:
            result.message = "undefined: no expected disagreement"
    return result


def _group_ids(frame: pd.DataFrame, by: list[str]) -> np.ndarray:
    """0, 1, … per distinct combination of ``by`` (NaN a value), numbered in order of first
    appearance; grouping factorized integers, not (Arrow) strings."""
    ints = pd.DataFrame({c: pd.factorize(frame[c], use_na_sentinel=False)[0] for c in by})
    return ints.groupby(by, sort=False).ngroup().to_numpy()


def reliability_table(codes: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """One row per group (e.g. solution × pass) with α, agreement, counts and a message.

    All groups at once from value counts per unit (``reliability`` per group is its
    definition): nominal α = 1 − (n − 1) Σ_u (m_u² − Σ_c n_uc²) / (m_u − 1) / (n² − Σ_c n_c²)
    over pairable units u (m_u ≥ 2 values; n_uc of value c; n and n_c their totals), which is
    the coincidence-matrix form the ``krippendorff`` package computes."""
    columns = [*by, "alpha", "percent_agreement", "n_coders", "n_units", "n_pairable_units",
               "message"]
    themed = codes[codes["theme_merged_id"].notna()]
    table = pd.DataFrame(columns=columns) if themed.empty else _themed_table(themed, by, columns)
    return _with_unthemed_groups(table, codes, by, columns)


def _with_unthemed_groups(table: pd.DataFrame, codes: pd.DataFrame, by: list[str],
                          columns: list[str]) -> pd.DataFrame:
    """A group whose codes carry no theme keeps its row, with
    nothing to pair, as ``reliability`` gives it."""
    if codes.empty:
        return table
    keys = codes[by].drop_duplicates()
    found = keys.merge(table[by].drop_duplicates(), on=by, how="left", indicator=True)
    missing = found.loc[found["_merge"] == "left_only", by]
    if missing.empty:
        return table
    extra = missing.assign(alpha=np.nan, percent_agreement=np.nan, n_coders=0, n_units=0,
                           n_pairable_units=0, message=NEEDS_TWO_CODERS)[columns]
    merged = extra if table.empty else pd.concat([table, extra], ignore_index=True)
    return in_pass_order(merged, [c for c in by if c != "pass"])


def _themed_table(codes: pd.DataFrame, by: list[str], columns: list[str]) -> pd.DataFrame:
    group = _group_ids(codes, by)
    first = np.unique(group, return_index=True)[1]
    keys = codes[by].iloc[first].reset_index(drop=True)
    frame = pd.DataFrame({
        "g": group, "u": _group_ids(codes, ["post", "pass"]),
        "coder": pd.factorize(codes["coder"])[0],
        "v": codes["theme_merged_id"].to_numpy(dtype="int64")}).drop_duplicates(["g", "u", "coder"])
    n_coders = frame.groupby("g")["coder"].nunique()
    n_units = frame.groupby("g")["u"].nunique()
    counts = frame.groupby(["g", "u", "v"], sort=False).size().rename("n").reset_index()
    counts["sq"] = counts["n"] ** 2
    units = counts.groupby(["g", "u"], sort=False).agg(m=("n", "sum"), sq=("sq", "sum"))
    units = units[units["m"] >= 2].reset_index()
    units["agree"] = (units["sq"] - units["m"]) / (units["m"] * (units["m"] - 1))
    units["disagree"] = (units["m"] ** 2 - units["sq"]) / (units["m"] - 1)
    per_group = units.groupby("g").agg(n_pairable_units=("u", "size"),
                                       percent_agreement=("agree", "mean"),
                                       n=("m", "sum"), observed=("disagree", "sum"))
    pairable = counts.merge(units[["g", "u"]], on=["g", "u"])
    values = pairable.groupby(["g", "v"], sort=False)["n"].sum().rename("n_c").reset_index()
    values["sq"] = values["n_c"] ** 2
    per_group = per_group.join(values.groupby("g").agg(n_values=("v", "size"),
                                                       value_sq=("sq", "sum")))
    expected = per_group["n"] ** 2 - per_group["value_sq"]
    with np.errstate(divide="ignore", invalid="ignore"):
        per_group["alpha"] = 1 - (per_group["n"] - 1) * per_group["observed"] / expected
    table = keys.assign(n_coders=n_coders.reindex(keys.index).to_numpy(),
                        n_units=n_units.reindex(keys.index).to_numpy())
    per_group = per_group.reindex(keys.index)
    pairable_units = per_group["n_pairable_units"].fillna(0).astype(int)
    alpha = per_group["alpha"].where((per_group["n_values"] >= 2) & np.isfinite(per_group["alpha"]))
    message = np.select(
        [pairable_units == 0, per_group["n_values"] < 2, alpha.isna()],
        [NEEDS_TWO_CODERS, ONE_VALUE_ONLY, "undefined: no expected disagreement"], "")
    table["alpha"] = alpha.to_numpy(dtype=float)        # NaN where undefined (see message)
    table["percent_agreement"] = per_group["percent_agreement"].to_numpy(dtype=float)
    table["n_pairable_units"] = pairable_units.to_numpy()
    table["message"] = message
    table[["n_coders", "n_units"]] = table[["n_coders", "n_units"]].astype(int)
    return in_pass_order(table[columns], [c for c in by if c != "pass"])
