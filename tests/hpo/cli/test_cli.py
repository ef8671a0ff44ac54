"""``hpo`` (``hpo.cli``): the subcommands and their documented options; an unknown option points
to the subcommand's help."""

import pytest

from hpo.cli import main


def test_help_lists_the_subcommands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for command in ("tune", "tasks", "optimizers", "electrode", "dynamics"):
        assert command in text


def test_every_subcommand_documents_its_options(capsys):
    with pytest.raises(SystemExit):
        main(["tune", "--help"])
    text = capsys.readouterr().out
    for option in (
        "--objective",
        "--space",
        "--optimizer",
        "--n-trials",
        "--seed",
        "--storage",
        "--study-name",
        "--out",
        "--direction",
        "--directions",
    ):
        assert option in text


@pytest.mark.parametrize(
    "command", [["tune", "sphere-4d"], ["worker", "sphere-4d", "--storage", "sqlite://", "--study", "s"]]
)
def test_an_unknown_option_points_to_the_subcommand_help(capsys, command):
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--bogus"])
    assert exit_info.value.code == 2
    name = command[0]
    assert f"hpo {name}: error: unrecognized arguments: --bogus (see 'hpo {name} --help')" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["bench", "postgresql://ann:S3cr@db.example/hpo"],
        ["tune", "sphere-4d", "postgresql://ann:S3'cr@db.example/hpo"],
        ["tune", "sphere-4d", "--n-trials", "mysql://ann:S3cr@db/x?password=S3cr"],
    ],
)
def test_argument_errors_hide_the_password_of_a_misplaced_url(capsys, argv):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "S3cr" not in err and "ann:***@" in err and err.count("\n") == 1


@pytest.mark.parametrize("command", ["tune", "worker", "bench", "pretrain", "demo"])
def test_help_states_each_default_once_and_only_where_there_is_one(capsys, command):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines anywhere
    assert "(default: None)" not in text and "(default: False)" not in text
    assert "] (default:" not in text  # a help that says "[default: ...]" gets no second one


def test_ctrl_c_while_the_commands_load_exits_130_with_one_line(monkeypatch, capsys):
    import hpo.cli.parser

    def interrupted(name):
        raise KeyboardInterrupt

    monkeypatch.setattr(hpo.cli.parser.importlib, "import_module", interrupted)
    assert main(["tune", "sphere-4d"]) == 130
    assert capsys.readouterr().err == "hpo: interrupted; finished work is kept\n"


def test_the_command_starts_without_loading_the_libraries():
    import subprocess
    import sys

    code = "import sys; import hpo.cli; print(sorted(m for m in sys.modules if m.startswith(('hpo', 'argparse'))))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['hpo', 'hpo.cli', 'hpo.errors']"  # main's Ctrl-C handling comes first
