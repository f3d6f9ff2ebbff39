"""Atomic file output: write to a temp file in the target folder, then rename.

Every file chromatize writes (images, configs, weights, reports) goes through
``atomic_output``, so that an interrupted write never leaves a half-written
file behind and an existing file is never replaced unless asked.
"""

from __future__ import annotations

import os
import re
import socket
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

__all__ = [
    "OutputExistsError", "atomic_output", "atomic_write_text", "clean_temp_files", "is_temp_file", "temp_prefix",
    "STALE_AFTER_S",
]

#: A temp file left by a write on another machine (or a recycled process id) is
#: removed by :func:`clean_temp_files` once it is this old.
STALE_AFTER_S = 6 * 3600
#: ``.NAME.chromatize-HOST-PID-RANDOM.tmp``: the writer's host and process id
#: let a later run tell a killed write's leftover from a write in progress.
_TEMP_RE = re.compile(r"^\..*\.chromatize-(?P<host>[A-Za-z0-9]*)-(?P<pid>\d+)-[A-Za-z0-9_]+\.tmp$", re.DOTALL)


class OutputExistsError(FileExistsError):
    """The output file exists and overwriting was not asked for."""


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:32]


def temp_prefix(path: str | os.PathLike, pid: int | None = None) -> str:
    """The start of a temp file's name for ``path``: ``.NAME.chromatize-HOST-PID-`` (NAME cut to 120 bytes).

    ``pid`` defaults to this process's id.
    """
    # The name's bytes as the file system has them (a name that is not UTF-8 too), cut to keep it under 255 bytes.
    short = os.fsdecode(os.fsencode(Path(path).name)[:120])
    return f".{short}.chromatize-{_host()}-{os.getpid() if pid is None else pid}-"


def is_temp_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` is named like a temp file of :func:`atomic_output`."""
    return _TEMP_RE.match(Path(path).name) is not None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists, under another user
        return True
    return True


def clean_temp_files(folder: str | os.PathLike, *, stale_after_s: float = STALE_AFTER_S) -> list[Path]:
    """Remove the temp files that killed writes left in ``folder`` (not its sub-folders).

    A temp file is removed when the process that wrote it (on this machine) is
    gone, or when it is older than ``stale_after_s`` (a write on another
    machine). Files that are not chromatize temp files are never touched; a
    missing folder or a file that cannot be removed is passed over.

    Returns
    -------
    list of Path
        The files removed.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    host, now = _host(), time.time()
    for entry in entries:
        m = _TEMP_RE.match(entry.name)
        if m is None or not entry.is_file(follow_symlinks=False):
            continue
        try:
            old = now - entry.stat(follow_symlinks=False).st_mtime > stale_after_s
            dead = m["host"] == host and not _pid_alive(int(m["pid"]))
            if old or dead:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_output(path: str | os.PathLike, *, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success rename it to ``path``.

    The temp file, ``.NAME.chromatize-HOST-PID-RANDOM.tmp``, gets the usual
    permissions (0666 less the umask), not mkstemp's owner-only 0600. On any
    exception it is removed and ``path`` is left as it was; if the process is
    killed, :func:`clean_temp_files` removes it later.

    Raises
    ------
    OutputExistsError
        If ``path`` exists and ``overwrite`` is false.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_output(d / "a.txt") as tmp:
    ...     _ = tmp.write_text("hello")
    >>> (d / "a.txt").read_text()
    'hello'
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path}: exists (use --overwrite to replace it)")
    path.parent.mkdir(parents=True, exist_ok=True)
    # Named after the writer's host and process, so that clean_temp_files can remove what a killed one left.
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=temp_prefix(path), suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_text(path: str | os.PathLike, text: str, *, overwrite: bool = True) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; returns the path."""
    with atomic_output(path, overwrite=overwrite) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)
