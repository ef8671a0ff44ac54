"""``hpo.cli.args``: command-line numbers parse or give one-line errors naming the option."""

import argparse
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hpo.cli import main
from hpo.cli.args import int_in, non_negative_int, positive_float, positive_int, real_in, seed

MARGIN = real_in(0.0, 0.5)

ARG_TYPES = [positive_int, non_negative_int, seed, int_in(1, 4096), positive_float, MARGIN]


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    parse=st.sampled_from(ARG_TYPES),
    text=st.text(max_size=12)
    | st.sampled_from(["1e400", "nan", "-inf", "18446744073709551616", "9" * 5000, "1_000", " 7 ", "0x10"]),
)
def test_fuzzed_command_line_numbers_parse_or_give_one_line_errors(parse, text):
    try:
        value = parse(text)
    except argparse.ArgumentTypeError as err:
        assert "\n" not in str(err) and len(str(err)) < 120
    else:
        assert value > 0 or (value == 0 and parse in (non_negative_int, seed, MARGIN))
        assert math.isfinite(value) and (parse is not MARGIN or value <= 0.5)
        if parse is seed:
            assert value <= 2**32 - 1


# -- command-line numbers beyond what the code can take ------------------------------------------
@pytest.mark.parametrize(
    "argv, option",
    [
        (["dynamics", "lr-range", "--hidden", "100000000"], "--hidden"),
        (["dynamics", "lr-range", "--depth", "0"], "--depth"),
        (["dynamics", "lr-range", "--tolerance", "nan"], "--tolerance"),
        (["dynamics", "lr-range", "--seed", str(2**64)], "--seed"),
        (["dynamics", "run", "catapult", "--out", "o", "--seed", str(2**64 + 1)], "--seed"),
        (["electrode", "fit", "--seed", str(2**64)], "--seed"),
        (["electrode", "pareto", "--out", "o", "--seed", "9" * 5000], "--seed"),
        (["electrode", "simulate", "--am", "0.9", "--sc", "0.6", "--cd", "0.2", "--coefficient", "x=1e400"], "x"),
        (
            ["electrode", "simulate", "--am", "0.9", "--sc", "0.6", "--cd", "0.2"]
            + ["--coefficient", "dry_porosity_ref=1e300"],
            "dry_porosity_ref=1e300",
        ),
        (
            ["electrode", "dataset", "--n", "4", "--out", "d.csv"]
            + ["--coefficient", "conductivity_calendering_gain=1e300"],
            "conductivity_calendering_gain=1e300",
        ),
        (["tune", "sphere-4d", "--seed", str(2**64), "--n-trials", "1", "--no-progress"], "seed"),
    ],
)
def test_numbers_out_of_range_give_exit_2_and_one_line_naming_the_option(argv, option, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    try:
        code = main(argv)
    except SystemExit as exit_info:  # argparse's own error path
        code = exit_info.code
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and option in err, err
    assert not (tmp_path / "d.csv").exists()  # refused before any design ran
