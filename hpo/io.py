"""Atomic file writes: a reader or a crash never sees a half-written result file."""

from __future__ import annotations

import hashlib
import os
import re
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from hpo.errors import UserError


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` on a temporary file beside ``path``, then rename it over
    ``path`` (atomic on POSIX filesystems). A symbolic link at ``path`` is replaced, never
    written through, and its target's mode is not copied. The file gets the permissions of the
    regular file it replaces (execute bits dropped: results are data), or the umask's for a new
    one, not the owner-only ones of a temporary file. The temporary name keeps ``path``'s suffix, for
    writers that choose a format by it (Matplotlib, NumPy, SB3). A folder that is a symbolic
    link is refused (``UserError``): results go only into real folders."""
    path = Path(path)
    if path.parent.is_symlink():
        raise UserError(
            f"{str(path.parent)!r} is a symbolic link to {os.readlink(path.parent)!r}: results are written "
            "only into real folders (a link planted there would redirect them); give the folder it points to"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        os.chmod(tmp_path, _mode_for(path))
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_text(text))


def _mode_for(path: Path) -> int:
    default = 0o666 & ~_umask()
    try:
        existing = os.lstat(path)
    except FileNotFoundError:
        return default
    if not stat.S_ISREG(existing.st_mode):  # a symlink (or other) is replaced, its mode ignored
        return default
    return stat.S_IMODE(existing.st_mode) & 0o666


def _umask() -> int:
    # reading the umask means setting it; Linux also shows it in /proc without a change
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def safe_file_name(name: str, limit: int = 100) -> str:
    """``name`` as one file-name component (a study name as a results folder): characters other
    than letters, digits, ``.``, ``-`` and ``_`` become ``_`` and leading dots go, so no name
    leaves its folder (``../../x``); a changed or cut name gets 8 hex digits of its hash, so that
    two names stay two folders."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".") or "_"
    if safe != name or len(safe) > limit:
        digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        safe = f"{safe[: limit - 9]}-{digest}"
    return safe
