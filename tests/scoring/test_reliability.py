"""Krippendorff's α equals the ``krippendorff`` package; percent agreement; undefined cases give a
message, never a crash or NaN."""
import krippendorff
import numpy as np
import pandas as pd
import pytest

from scoring.services.reliability import (NEEDS_TWO_CODERS, ONE_VALUE_ONLY, reliability,
                                          reliability_table)

nan = np.nan
DOCSTRING_DATA = [[nan, nan, nan, nan, nan, 3, 4, 1, 2, 1, 1, 3, 3, nan, 3],
                  [1, nan, 2, 1, 3, 3, 4, 3, nan, nan, nan, nan, nan, nan, nan],
                  [nan, nan, 2, 1, 3, 4, 4, nan, 2, 1, 1, 3, 3, nan, 4]]


def long_codes(matrix, pass_name="text") -> pd.DataFrame:
    rows = [{"coder": f"coder_{c}", "post": f"P{u:02d}", "pass": pass_name,
             "solution_pk": 1, "solution_id": "s", "theme_merged_id": value}
            for c, unit_values in enumerate(matrix) for u, value in enumerate(unit_values)
            if not np.isnan(value)]
    frame = pd.DataFrame(rows)
    frame["theme_merged_id"] = frame["theme_merged_id"].astype("Int64")
    return frame


def test_alpha_equals_the_package_docstring_example():
    result = reliability(long_codes(DOCSTRING_DATA))
    assert round(result.alpha, 6) == 0.691358
    assert result.alpha == pytest.approx(krippendorff.alpha(
        reliability_data=DOCSTRING_DATA, level_of_measurement="nominal"))
    # units 1 and 13 have no value at all; unit 0 has one coder only
    assert result.n_coders == 3 and result.n_units == 13
    assert result.n_pairable_units == 12 and result.message == ""


def test_percent_agreement_known_values():
    two = [[1, 2, 3, 4], [1, 2, 3, 1]]
    assert reliability(long_codes(two)).percent_agreement == pytest.approx(0.75)
    three = [[1], [1], [2]]                 # pairs: (1,1) agree, (1,2), (1,2) -> 1/3
    assert reliability(long_codes(three)).percent_agreement == pytest.approx(1 / 3)


def test_undefined_cases_give_a_message():
    one_coder = reliability(long_codes([[1, 2, 3]]))
    assert one_coder.alpha is None and one_coder.message == NEEDS_TWO_CODERS
    assert one_coder.percent_agreement is None
    no_overlap = reliability(long_codes([[1, 2, nan, nan], [nan, nan, 1, 2]]))
    assert no_overlap.alpha is None and no_overlap.message == NEEDS_TWO_CODERS
    one_value = reliability(long_codes([[5, 5, 5, 7], [5, 5, 5, nan]]))
    assert one_value.alpha is None and one_value.message == ONE_VALUE_ONLY
    assert one_value.percent_agreement == 1.0
    assert one_value.display == ONE_VALUE_ONLY


def test_table_per_group_keeps_passes_apart():
    codes = pd.concat([long_codes(DOCSTRING_DATA, "text"), long_codes([[1, 2]], "image")])
    table = reliability_table(codes, ["solution_pk", "pass"]).set_index("pass")
    assert round(table.loc["text", "alpha"], 6) == 0.691358
    assert table.loc["image", "alpha"] is None or pd.isna(table.loc["image", "alpha"])
    assert table.loc["image", "message"] == NEEDS_TWO_CODERS
