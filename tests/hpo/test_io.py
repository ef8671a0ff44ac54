"""``hpo.io``: atomic writes keep permissions, replace planted links, leave no temporary; study
names become file names that stay in their folder."""

from __future__ import annotations

import os
import stat

import pytest

from hpo.errors import UserError
from hpo.io import atomic_write, atomic_write_text


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask_027():
    old = os.umask(0o027)
    yield
    os.umask(old)


@pytest.mark.parametrize("name", ["../../x", "/etc/passwd", "..", ".", "", "a/b", "ok-name_1.0"])
def test_study_names_become_file_names_that_stay_in_their_folder(tmp_path, name):
    from hpo.io import safe_file_name

    safe = safe_file_name(name)
    assert "/" not in safe and safe not in ("", ".", "..")
    assert (tmp_path / safe).resolve().parent == tmp_path.resolve()
    if name == "ok-name_1.0":
        assert safe == name  # a plain name is kept as it is
    assert safe_file_name("a/b") != safe_file_name("a_b")  # two names stay two folders


def test_a_new_file_gets_the_umask_permissions_not_owner_only(tmp_path, umask_027):
    path = atomic_write_text(tmp_path / "sub" / "runs.csv", "a,b\n")
    assert path.read_text() == "a,b\n"
    assert mode(path) == 0o640  # 0o666 & ~0o027; a temporary file alone would give 0o600


def test_a_replaced_file_keeps_its_permissions(tmp_path, umask_027):
    path = tmp_path / "report.md"
    path.write_text("old")
    for wanted in (0o600, 0o644):
        os.chmod(path, wanted)
        atomic_write_text(path, "new")
        assert path.read_text() == "new" and mode(path) == wanted


def test_a_failing_writer_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "curve.png"
    path.write_text("old")
    seen = []

    def broken(tmp):
        seen.append(tmp.name)
        tmp.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_write(path, broken)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["curve.png"]
    assert seen[0].endswith(".png")  # writers that pick a format by the suffix still can


def test_a_planted_symlink_is_replaced_not_written_through(tmp_path, umask_027):
    target = tmp_path / "elsewhere.txt"
    target.write_text("precious")
    os.chmod(target, 0o777)
    link = tmp_path / "front.csv"
    link.symlink_to(target)
    atomic_write_text(link, "new")
    assert not link.is_symlink() and link.read_text() == "new"
    assert target.read_text() == "precious"
    assert mode(link) == 0o640  # the umask's, not the target's 0777


def test_a_results_folder_that_is_a_symlink_is_refused(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    link = tmp_path / "results"
    link.symlink_to(elsewhere)
    with pytest.raises(UserError, match="is a symbolic link to .*elsewhere.*only into real folders"):
        atomic_write_text(link / "history.csv", "x\n")
    assert list(elsewhere.iterdir()) == []
    assert atomic_write_text(elsewhere / "history.csv", "x\n").read_text() == "x\n"  # the real folder is fine
