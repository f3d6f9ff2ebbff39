"""Files named by URIs (``s3://bucket/key``, ``gs://bucket/key``, ``file:///path``), through pyarrow's filesystems.

:class:`UriPath` is the part of ``pathlib`` that a batch needs (name, suffix,
parent, joining) over a URI, and the file operations, each a call on the
``pyarrow.fs.FileSystem`` that ``FileSystem.from_uri`` gives for the URI's
scheme and bucket. That filesystem is made once per process and bucket, and
finds its credentials where pyarrow looks for them (the environment, the
cloud SDK's files, the machine's metadata server).

Writes are atomic either way. On the local file system (``file://``) through
:func:`~chromatize.io.atomic.atomic_output`: a temp file, then a rename. On
an object store there is no rename; instead the whole encoded file, already
in memory, goes to its final key in one ``open_output_stream``, and the
object appears when the stream closes, whole, or not at all if the upload
fails (a put is atomic per object).

The text after ``scheme://`` is taken as written (no percent-decoding), up
to a ``?``, which starts pyarrow's options for the filesystem
(``s3://bucket/in?endpoint_override=minio:9000&scheme=http``); they are kept
on every path derived from it.

Every call on a store is bounded: it runs in a helper thread that the
caller waits for at most :data:`CALL_TIMEOUT_S` (so that Ctrl-C works while
it waits, and a store that never answers is a ``TimeoutError`` naming the
URI), and Google Cloud Storage gives up retrying after
:data:`GCS_RETRY_S` unless the URI says otherwise (``?retry_limit_seconds=``).

Needs ``pyarrow`` (it comes with ``ray[data]``: ``pip install 'chromatize[scale]'``).
"""

from __future__ import annotations

import functools
import os
import re
import threading
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from ..text import one_line
from .atomic import OutputExistsError, atomic_output

__all__ = ["UriPath", "is_uri", "as_path", "location"]

#: The longest wait for one call on a store (a listing, a file read or written whole) before it is given up.
CALL_TIMEOUT_S = 300.0
#: How long Google Cloud Storage's client retries (finding credentials, reaching the store) before it fails;
#: pyarrow's default is 15 minutes, which, with no network, looked like a hang.
GCS_RETRY_S = 15

#: ``scheme://host/key?options``; a scheme of two letters or more, so that no Windows drive (``C:``) is one.
_URI = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+)://([^/?]*)([^?]*)(?:\?(.*))?$", re.DOTALL)


def is_uri(path: object) -> bool:
    """Whether ``path`` is a :class:`UriPath` or text of the form ``scheme://...``."""
    return isinstance(path, UriPath) or (isinstance(path, str) and _URI.match(path) is not None)


def as_path(path: "str | os.PathLike | UriPath") -> "Path | UriPath":
    """A :class:`UriPath` for a URI, else a ``Path``."""
    if isinstance(path, UriPath):
        return path
    return UriPath.parse(path) if is_uri(path) else Path(path)


def location(path: "Path | UriPath") -> str:
    """What ``path`` is, to tell two names of one file apart from two files.

    A local path or a ``file://`` URI: the real path (links followed); another
    URI: its text without options.
    """
    if isinstance(path, UriPath):
        return os.path.realpath(path.local) if path.local is not None else path.root + path.key
    return os.path.realpath(path)


@functools.lru_cache(maxsize=None)
def _filesystem(root: str, options: str):
    """``(filesystem, prefix)`` for the URIs under ``root``: a key ``/k`` is the filesystem's path ``prefix + k``."""
    try:
        import pyarrow.fs
    except ModuleNotFoundError:
        raise ModuleNotFoundError(f"{root}: URIs are read and written with pyarrow, which is not installed: "
                                  "pip install 'chromatize[scale]'", name="pyarrow") from None
    if root.split("://")[0] in ("gs", "gcs") and "retry_limit_seconds=" not in options:
        options = "&".join(filter(None, [options, f"retry_limit_seconds={GCS_RETRY_S}"]))
    probe = root + "/_" + (f"?{options}" if options else "")
    try:
        fs, path = pyarrow.fs.FileSystem.from_uri(probe)
    except (ValueError, TypeError) as exc:  # pyarrow.ArrowInvalid: an unknown scheme, bad options
        raise ValueError(f"{root}: {one_line(exc)}") from None
    if not path.endswith("_"):
        raise ValueError(f"{root}: pyarrow maps {probe} to {path!r}, which chromatize cannot follow")
    return fs, path[:-1]


def _bounded(what: object, fn, *args, timeout: float | None = None, **kwargs):
    """``fn(*args, **kwargs)`` in a helper thread, waited for at most ``timeout`` (default :data:`CALL_TIMEOUT_S`).

    A native call on a store cannot be interrupted; the caller waits on an
    event instead, so that Ctrl-C (``KeyboardInterrupt``) stops it at once,
    and a call past its time is left to finish in its daemon thread.

    Raises
    ------
    TimeoutError
        Naming ``what``, if no answer came in time.
    And whatever ``fn`` raises.
    """
    timeout = CALL_TIMEOUT_S if timeout is None else timeout
    done, box = threading.Event(), {}

    def call():
        try:
            box["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=call, name="chromatize-uri", daemon=True).start()
    if not done.wait(timeout):
        raise TimeoutError(f"{what}: no answer from the store in {timeout:g} s (is the network up, "
                           "and are the credentials found?)")
    error = box.get("error")
    if type(error) is OSError:  # the store's own error (pyarrow's text can run to a kilobyte): name the URI
        text = one_line(error)
        raise OSError(f"{what}: {text if len(text) <= 200 else text[:200] + '...'}") from None
    if error is not None:
        raise error
    return box["value"]


@dataclass(frozen=True, order=True, repr=False)
class UriPath:
    """A file or folder named by a URI, e.g. ``s3://bucket/scans/a.jpg``.

    Attributes
    ----------
    root : str
        Scheme and host (the bucket): ``"s3://bucket"``, ``"file://"``.
    key : str
        ``""`` (the root) or ``"/part/part..."``, without empty parts or ``.``.
    options : str
        pyarrow's options for the filesystem (the URI's query), or ``""``.

    Examples
    --------
    >>> p = UriPath.parse("s3://bucket/scans/a.jpg")
    >>> str(p.parent / "b.png"), p.stem, p.suffix
    ('s3://bucket/scans/b.png', 'a', '.jpg')
    """

    root: str
    key: str = ""
    options: str = ""

    @classmethod
    def parse(cls, uri: str) -> "UriPath":
        """Split ``scheme://host/key?options``.

        Raises
        ------
        ValueError
            If ``uri`` is not of that form.
        """
        m = _URI.match(uri)
        if m is None:
            raise ValueError(f"not a URI (scheme://...): {uri!r}")
        scheme, host, key, options = m.groups()
        return cls(f"{scheme.lower()}://{host}", _clean(key), options or "")

    def __str__(self) -> str:
        return self.root + (self.key or "/") + (f"?{self.options}" if self.options else "")

    def __repr__(self) -> str:
        return f"UriPath({str(self)!r})"

    # -- pure path operations, as pathlib's --

    @property
    def name(self) -> str:
        return self.key.rsplit("/", 1)[-1]

    @property
    def stem(self) -> str:
        return PurePosixPath(self.name).stem

    @property
    def suffix(self) -> str:
        return PurePosixPath(self.name).suffix

    @property
    def parent(self) -> "UriPath":
        return replace(self, key=self.key.rsplit("/", 1)[0])

    def __truediv__(self, other: "str | os.PathLike") -> "UriPath":
        rel = PurePosixPath(other)
        if rel.is_absolute():
            raise ValueError(f"cannot join the absolute path {other} to {self}")
        return replace(self, key=self.key + _clean(str(rel)))

    def with_name(self, name: str) -> "UriPath":
        return self.parent / name

    @property
    def local(self) -> Path | None:
        """The local path of a ``file://`` URI, else None."""
        if self.root not in ("file://", "file://localhost"):
            return None
        return Path(self.key or "/")

    # -- file operations, through pyarrow --

    def _fs(self):
        """``(filesystem, this path in it)``."""
        fs, prefix = _filesystem(self.root, self.options)
        if self.key:
            return fs, prefix + self.key[1:]
        return fs, prefix[:-1] if len(prefix) > 1 and prefix.endswith("/") else prefix

    def kind(self) -> str | None:
        """``"file"``, ``"folder"``, or None when nothing is there."""
        fs, path = self._fs()  # first: without pyarrow, its error says what to install
        import pyarrow.fs

        kind = _bounded(self, fs.get_file_info, path).type
        if kind == pyarrow.fs.FileType.NotFound:
            return None
        return "folder" if kind == pyarrow.fs.FileType.Directory else "file"

    def exists(self) -> bool:
        return self.kind() is not None

    def is_dir(self) -> bool:
        return self.kind() == "folder"

    def listdir(self, *, recursive: bool = False) -> list[tuple["UriPath", bool]]:
        """Every entry of this folder (and its sub-folders', with ``recursive``) as ``(path, is_folder)``, unsorted.

        Raises
        ------
        FileNotFoundError
            If there is no such folder.
        OSError
            If it cannot be listed.
        """
        fs, path = self._fs()
        _, prefix = _filesystem(self.root, self.options)
        import pyarrow.fs

        entries = _bounded(self, fs.get_file_info, pyarrow.fs.FileSelector(path, recursive=recursive))
        return [(replace(self, key=_clean(e.path[len(prefix):])), e.type == pyarrow.fs.FileType.Directory)
                for e in entries if e.path.startswith(prefix)]

    def read_bytes(self) -> bytes:
        """The file's bytes (one request to an object store).

        Raises
        ------
        FileNotFoundError, IsADirectoryError, OSError
        """
        fs, path = self._fs()

        def read() -> bytes:
            with fs.open_input_stream(path, compression=None) as f:
                return f.read()

        try:
            return _bounded(self, read)
        except FileNotFoundError:
            if self.is_dir():
                raise IsADirectoryError(f"{self}: is a folder") from None
            raise

    def write_bytes(self, data: bytes, *, overwrite: bool = False, content_type: str | None = None) -> None:
        """Write ``data`` atomically: temp file and rename on a disk, one whole put on an object store.

        Parameters
        ----------
        data : bytes
            The whole file (an object store gets it in one stream, so that the object appears whole).
        overwrite : bool
            Replace an existing file.
        content_type : str, optional
            The object's ``Content-Type`` (``image/png``) on an object store.

        Raises
        ------
        OutputExistsError
            If the file exists and ``overwrite`` is false.
        OSError
            If it cannot be written.
        """
        if self.local is not None:
            with atomic_output(self.local, overwrite=overwrite) as tmp:
                tmp.write_bytes(data)
            return
        if not overwrite and self.exists():
            raise OutputExistsError(f"{self}: exists (use --overwrite to replace it)")
        fs, path = self._fs()
        meta = {"Content-Type": content_type} if content_type else None

        def write() -> None:
            try:
                stream = fs.open_output_stream(path, compression=None, metadata=meta)
            except FileNotFoundError:  # a store with real folders (HDFS, pyarrow's mock): make them, then write
                fs.create_dir(self.parent._fs()[1], recursive=True)
                stream = fs.open_output_stream(path, compression=None, metadata=meta)
            with stream:  # the object appears when the stream closes
                stream.write(data)

        _bounded(self, write)


def _clean(key: str) -> str:
    """``"/a/b"`` from ``"a//b/./"`` and the like; ``""`` for none."""
    return "".join(f"/{part}" for part in key.split("/") if part not in ("", "."))
