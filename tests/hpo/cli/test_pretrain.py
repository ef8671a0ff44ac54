"""``hpo pretrain``: errors name the option."""

from __future__ import annotations

import pytest

from hpo.cli import main


@pytest.mark.parametrize("option, value", [("--steps", "0"), ("--gamma", "1.5"), ("--target-entropy", "nan")])
def test_pretrain_command_line_errors_name_the_option(capsys, tmp_path, option, value):
    try:  # argparse exits; a value it lets through is refused by pretrain() with exit status 2
        code = main(["pretrain", "--out", str(tmp_path), option, value, "--no-progress"])
    except SystemExit as exit_info:
        code = exit_info.code
    assert code == 2
    assert option.lstrip("-").replace("-", "_") in capsys.readouterr().err.replace("-", "_")
