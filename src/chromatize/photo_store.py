"""A store of training photos decoded and resized once: one ``.npy`` file memory-mapped by every process.

``open_store(files, long_side, root)`` returns the photos of ``files``,
resized as :func:`chromatize.data.load_photo` resizes them, as read-only
views into ``root/<key>/photos.npy`` (all photos' pixels end to end, uint8).
``root/<key>/index.json`` lists each file with its offset and shape (or why it
was skipped). The key is a hash of the settings and of the file list with
each file's size and modification time, so a changed file, another file list
or another ``long_side`` makes a new store; the same ones reuse it. The first
process builds it (under a lock file, into a temporary folder renamed into
place), the others wait and then map the same file: the operating system
keeps one copy of the pages for all of them.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np

from .data import load_photo

__all__ = ["STORE_VERSION", "store_key", "open_store", "build_store"]

#: Bumped when what the store holds, or how photos are resized, changes.
STORE_VERSION = 1


def store_key(files: Sequence[Path], long_side: int) -> str:
    """The store's folder name: ``photos-<long_side>-<hash>`` over the settings, file paths, sizes and mtimes."""
    h = hashlib.sha256(json.dumps({"version": STORE_VERSION, "long_side": int(long_side)}).encode())
    for f in files:
        st = os.stat(f) if os.path.exists(f) else None
        h.update(json.dumps([os.path.abspath(f), st.st_size if st else -1, st.st_mtime_ns if st else -1]).encode())
    return f"photos-{int(long_side)}-{h.hexdigest()[:16]}"


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (a no-op where fcntl is missing: builds may then repeat)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def build_store(files: Sequence[Path], long_side: int, folder: Path,
                progress: Callable[[int], None] | None = None) -> None:
    """Decode and resize ``files`` into ``folder`` (``photos.npy`` and ``index.json``); see the module docstring."""
    folder.mkdir(parents=True)
    entries, offset = [], 0
    with open(folder / "pixels.raw", "wb") as raw:  # the pixels as they come, then copied under a .npy header
        for f in files:
            rgb = load_photo(Path(f), long_side)
            if rgb is None:
                entries.append({"file": str(f), "skipped": "unreadable or under 16 px"})
            else:
                raw.write(np.ascontiguousarray(rgb).tobytes())
                entries.append({"file": str(f), "offset": offset, "shape": list(rgb.shape)})
                offset += rgb.size
            if progress is not None:
                progress(1)
    out = np.lib.format.open_memmap(folder / "photos.npy", mode="w+", dtype=np.uint8, shape=(max(offset, 1),))
    src = np.memmap(folder / "pixels.raw", dtype=np.uint8, mode="r") if offset else np.zeros(0, np.uint8)
    for start in range(0, offset, 1 << 26):
        out[start : start + (1 << 26)] = src[start : start + (1 << 26)]
    out.flush()
    del out, src
    (folder / "pixels.raw").unlink()
    index = {"version": STORE_VERSION, "long_side": int(long_side), "photos": entries}
    (folder / "index.json").write_text(json.dumps(index))


def open_store(files: Sequence[str | os.PathLike], long_side: int, root: str | os.PathLike,
               progress: Callable[[int], None] | None = None) -> list[np.ndarray | None]:
    """The photos of ``files`` from the store under ``root`` (built first if missing).

    Returns
    -------
    list of (ndarray of uint8, shape (H, W, 3)) or None
        One per file, in order: a read-only view into the memory-mapped
        store, or None for a file that could not be read (as
        :func:`chromatize.data.load_photo`).
    """
    files = [Path(f) for f in files]
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    key = store_key(files, long_side)
    folder = root / key
    with _locked(root / f"{key}.lock"):
        if not (folder / "index.json").is_file():
            tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=root))
            try:
                build_store(files, long_side, tmp / "store", progress)
                shutil.rmtree(folder, ignore_errors=True)  # a torn build of an older run
                os.replace(tmp / "store", folder)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    index = json.loads((folder / "index.json").read_text())
    pixels = np.load(folder / "photos.npy", mmap_mode="r")
    return [pixels[e["offset"] : e["offset"] + int(np.prod(e["shape"]))].reshape(e["shape"]) if "shape" in e else None
            for e in index["photos"]]
