"""A batch's inputs: files and folders expanded into image files, each with its path relative to its input.

:func:`find_inputs` walks folders on disk (hidden names, the output folder and
links back up the tree passed over) and lists a URI's folder once through
pyarrow (:func:`_find_stored`), with the same rules and the same one-line
messages; :func:`sample_images` names the photos bundled with the package.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Callable, Iterable

from ..io import IMAGE_SUFFIXES, VIDEO_SUFFIXES, UriPath, as_path, location
from ..text import one_line

__all__ = ["find_inputs", "sample_images", "INPUT_SUFFIXES"]

#: Files taken from folders: photos and videos.
INPUT_SUFFIXES = IMAGE_SUFFIXES + VIDEO_SUFFIXES


def sample_images() -> list[Path]:
    """The sample photos bundled with the package (Kodak, unrestricted use)."""
    root = Path(str(resources.files("chromatize") / "samples"))
    return sorted(p for p in root.iterdir() if p.suffix.lower() == ".png")


def _stat_problem(path: Path) -> str | None:
    """None if ``path`` can be stat'ed (following links), else a one-line reason naming it."""
    try:
        os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            return f"{path}: broken symbolic link (to {os.readlink(path)})"
        return f"{path}: no such file or folder"
    except OSError as exc:  # a symbolic link loop, a name too long, permission denied
        return f"{path}: {exc.strerror or one_line(exc)}"
    return None


def find_inputs(
    inputs: Iterable[str | os.PathLike], *, recursive: bool = False, exclude: Iterable[str | os.PathLike] = (),
) -> tuple[list[tuple[Path | UriPath, Path]], list[tuple[Path | UriPath, str]], list[str]]:
    """Expand files and folders into input images, each with its path relative to its input.

    A file given by name is taken whatever its suffix (so that a bad file is
    reported, not skipped), relative path its name. A folder contributes its
    files with an image or video suffix (:data:`INPUT_SUFFIXES`), sorted,
    relative to the folder; with ``recursive`` also those of its sub-folders.
    Hidden names (``.*``) are passed over; the same file given twice is taken once.
    A URI (``s3://bucket/scans``) is listed through pyarrow (:func:`_find_stored`),
    with the same rules and messages.

    Parameters
    ----------
    inputs : iterable of paths or URIs
    recursive : bool
        Descend into sub-folders (else each is named in a notice).
    exclude : iterable of paths
        Folders never descended into (the output folder).

    Returns
    -------
    found : list of (Path or UriPath, Path)
        (input file, relative path).
    failed : list of (Path, str)
        Missing inputs, broken or looping links, folders without images.
    notes : list of str
        Skipped sub-folders and files without an image suffix.
    """
    finder = _Finder(recursive, {location(as_path(p)) for p in exclude})
    for item in inputs:
        finder.add(as_path(item))
    return finder.found, finder.failed, finder.notes


class _Finder:
    """What :func:`find_inputs` collects: the inputs found, the failures and notices, the files seen."""

    def __init__(self, recursive: bool, skip_dirs: set[str]):
        self.recursive, self.skip_dirs = recursive, skip_dirs
        self.found: list[tuple[Path | UriPath, Path]] = []
        self.failed: list[tuple[Path | UriPath, str]] = []
        self.notes: list[str] = []
        self.seen: set[str] = set()

    def take(self, path: Path | UriPath, rel: Path) -> None:
        real = location(path)
        if real not in self.seen:
            self.seen.add(real)
            self.found.append((path, rel))

    def add(self, path: Path | UriPath) -> None:
        """One input: a file, a folder or a URI."""
        problem = _stat_problem(path) if isinstance(path, Path) else None
        if problem is not None:
            self.failed.append((path, problem))
        elif isinstance(path, UriPath):
            _find_stored(path, self.recursive, self.skip_dirs, self.take, self.failed, self.notes)
        elif path.is_dir():
            if self.walk(path, path, frozenset({os.path.realpath(path)})) == 0:
                self.failed.append((path, _no_images(path, self.recursive)))
        else:
            self.take(path, Path(path.name))

    def walk(self, folder: Path, root: Path, visited: frozenset[str]) -> int:
        """Add the images in ``folder``; returns how many (including failures)."""
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            self.failed.append((folder, f"{folder}: cannot list folder ({exc.strerror or one_line(exc)})"))
            return 1
        count, others, subdirs = 0, 0, []
        for entry in entries:
            path = Path(entry.path)
            if entry.name.startswith("."):
                continue
            problem = _stat_problem(path)
            if problem is not None:
                if path.suffix.lower() in INPUT_SUFFIXES:
                    self.failed.append((path, problem))
                    count += 1
                else:
                    self.notes.append(f"skipped {problem}")
                continue
            if path.is_dir():
                real = os.path.realpath(path)
                if real in self.skip_dirs or real in visited:
                    continue  # the output folder, or a link back up the tree
                if self.recursive:
                    count += self.walk(path, root, visited | {real})
                else:
                    subdirs.append(entry.name)
            elif path.suffix.lower() in INPUT_SUFFIXES:
                self.take(path, path.relative_to(root))
                count += 1
            else:
                others += 1
        self.notes.extend(_folder_notes(folder, subdirs, others))
        return count


def _folder_notes(folder: Path | UriPath, subdirs: list[str], others: int) -> list[str]:
    """The notices for a folder: sub-folders skipped without ``recursive``, files without an image suffix."""
    notes = []
    if subdirs:
        names = ", ".join(subdirs[:3]) + (", ..." if len(subdirs) > 3 else "")
        notes.append(f"{folder}: skipped {len(subdirs)} sub-folder(s) ({names}); use --recursive to include them")
    if others:
        notes.append(f"{folder}: skipped {others} file(s) without an image suffix")
    return notes


def _no_images(folder: Path | UriPath, recursive: bool) -> str:
    hint = "" if recursive else " (use --recursive to search its sub-folders)"
    return f"{folder}: no images found in this folder{hint}"


def _find_stored(item: UriPath, recursive: bool, skip: set[str], take: Callable, failed: list, notes: list) -> None:
    """:func:`find_inputs` for a URI: one listing (``FileSelector``), found and noted as a disk's walk would be.

    Files come in the walk's order (sorted by their path's parts), hidden names
    and the folders in ``skip`` are passed over, and each folder's notices come
    after its sub-folders' (the walk notes a folder when it has finished it).
    """
    try:
        kind = item.kind()
        entries = item.listdir(recursive=recursive) if kind == "folder" else []
    except OSError as exc:
        failed.append((item, f"{item}: cannot list folder ({exc.strerror or one_line(exc)})"))
        return
    if kind is None:
        failed.append((item, f"{item}: no such file or folder"))
        return
    if kind == "file":
        take(item, Path(item.name))
        return
    count, subdirs, others = 0, [], {}
    for path, is_dir in sorted(entries, key=lambda e: _parts(e[0], item)):
        parts, loc = _parts(path, item), location(path)
        if any(p.startswith(".") for p in parts) or any(loc == s or loc.startswith(s + "/") for s in skip):
            continue
        if is_dir:
            if not recursive:
                subdirs.append(path.name)
        elif path.suffix.lower() in INPUT_SUFFIXES:
            take(path, Path(*parts))
            count += 1
        else:
            others[path.parent] = others.get(path.parent, 0) + 1
    last = chr(0x10FFFF)  # sorts a folder after its sub-folders
    for folder in sorted(others.keys() | {item}, key=lambda f: _parts(f, item) + (last,)):
        notes.extend(_folder_notes(folder, subdirs if folder == item else [], others.get(folder, 0)))
    if count == 0:
        failed.append((item, _no_images(item, recursive)))


def _parts(path: UriPath, folder: UriPath) -> tuple[str, ...]:
    """``path``'s parts below ``folder``."""
    return tuple(path.key[len(folder.key):].split("/")[1:])
