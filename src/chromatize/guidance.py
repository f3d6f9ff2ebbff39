"""What a user gives to steer a colorization, parsed once: :class:`Guidance`.

A user steers a colorization with six things: the working size
(``render_size``), a colour gain (``saturation``), point hints, scribbles, a
reference photo and how far to follow it (``reference_strength``). They arrive
as paths, JSON, arrays or a web form; :meth:`Guidance.build` reads and checks
them once (a hints file parsed, a scribble image read, the reference reduced
to its colour statistics) into one typed, immutable object that the layers
below take as it is: a batch parses its guidance once, not once per photo.

What depends on the photo (a hint outside it, scribbles of another size) is
checked per photo, by :meth:`Guidance.guide`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from .hints import (Guide, Hint, check_inside, merge_guides, parse_frame_hints, rasterize, read_scribbles,
                    scribble_guide)
from .io import as_photo
from .models.base import MAX_RENDER_SIZE, Colorizer, refuse_guide
from .transfer import STRENGTH, ColorStats, check_strength, reference_stats

__all__ = ["Guidance", "NO_GUIDANCE", "check_settings", "MAX_SATURATION"]

#: Largest relative saturation accepted (a*b* multiplied by it).
MAX_SATURATION = 10.0


def check_settings(render_size: int | None = None, saturation: float | None = None) -> None:
    """Check the user-facing knobs; raise ``ValueError``/``TypeError`` saying what was received.

    ``render_size`` is a working size in pixels (8..MAX_RENDER_SIZE);
    ``saturation`` multiplies the model's own tuned colour gain (1 = as shipped, 0..10).
    """
    if render_size is not None:
        if isinstance(render_size, bool) or not isinstance(render_size, (int, np.integer)):
            raise TypeError(f"render_size must be an integer, got {type(render_size).__name__} {render_size!r}")
        if not 8 <= render_size <= MAX_RENDER_SIZE:
            raise ValueError(f"render_size must be between 8 and {MAX_RENDER_SIZE} pixels, got {render_size}")
    if saturation is not None:
        if isinstance(saturation, bool) or not isinstance(saturation, (int, float, np.floating, np.integer)):
            raise TypeError(f"saturation must be a number, got {type(saturation).__name__} {saturation!r}")
        if not 0 <= saturation <= MAX_SATURATION:
            raise ValueError(f"saturation must be between 0 and {MAX_SATURATION:g}, got {saturation}")


@dataclass(frozen=True, eq=False)
class Guidance:
    """The guidance of a colorization, parsed and checked (build it with :meth:`build`).

    Attributes
    ----------
    render_size : int or None
        Working size of the model (``Colorizer.work_shape``); None: the model's own.
    saturation : float or None
        Colour gain relative to the model as shipped (None or 1: as shipped).
    hints : tuple of chromatize.hints.Hint
        Point hints in the photo's pixels (a video's: those of its first frame).
    frame_hints : dict of int to tuple of Hint
        A video's point hints by the frame they start on (``"frame": N`` in the hints; 0 when absent).
    hints_source : str
        Where the hints came from (a file name, or ``"hints"``), named in errors.
    scribbles : ndarray of uint8, shape (H, W, 4), or None
        Strokes: opaque pixels give colours.
    scribbles_source : str
        Where the scribbles came from, named in errors.
    reference : chromatize.transfer.ColorStats or None
        A reference photo's colours per band of lightness.
    reference_strength : float
        0..1, how far to move towards the reference.
    """

    render_size: int | None = None
    saturation: float | None = None
    hints: tuple[Hint, ...] = ()
    frame_hints: dict[int, tuple[Hint, ...]] = field(default_factory=dict)
    hints_source: str = "hints"
    scribbles: np.ndarray | None = None
    scribbles_source: str = "scribbles"
    reference: ColorStats | None = None
    reference_strength: float = STRENGTH

    @classmethod
    def build(cls, *, render_size: int | None = None, saturation: float | None = None, hints=None,
              scribbles=None, reference=None, reference_strength: float | None = None) -> "Guidance":
        """Read and check what the user gave, once.

        Parameters
        ----------
        render_size, saturation : optional
            See :func:`chromatize.colorize`.
        hints : path, list of dict, dict ``{"hints": [...]}``, list of Hint, or None
            Point hints (``chromatize.hints``); a path names a JSON file. A
            hint may start on a video's frame N (``"frame": N``); a photo takes
            those of frame 0.
        scribbles : ndarray of uint8 (H, W, 4), path, or None
            An RGBA image whose opaque pixels are strokes (a file needs transparency).
        reference : path, ndarray, Photo, ColorStats, or None
            A colour photo whose colours guide the result.
        reference_strength : float, optional
            0..1 (default 0.25).

        Raises
        ------
        chromatize.hints.HintError, chromatize.io.ImageReadError
            One line naming the file and the entry.
        ValueError, TypeError
            If a setting is out of range or of the wrong type (the message says what was received).

        Examples
        --------
        >>> g = Guidance.build(hints=[{"x": 1, "y": 2, "ab": [10, 20]}], saturation=1.2)
        >>> len(g.hints), g.saturation, g.steers_model
        (1, 1.2, True)
        """
        check_settings(render_size, saturation)
        strength = STRENGTH if reference_strength is None else check_strength(reference_strength)
        source = str(hints) if isinstance(hints, (str, os.PathLike)) else "hints"
        by_frame = {n: tuple(h) for n, h in parse_frame_hints(hints, source).items()} if hints is not None else {}
        scribble_source = "scribbles"
        if isinstance(scribbles, (str, os.PathLike)):
            scribble_source, scribbles = str(scribbles), read_scribbles(scribbles)
        elif scribbles is not None:
            scribble_guide(scribbles, np.shape(scribbles)[:2])  # the array's type and shape, once
        if reference is not None and not isinstance(reference, ColorStats):
            reference = reference_stats(as_photo(reference).rgb)
        return cls(render_size=render_size, saturation=saturation, hints=by_frame.get(0, ()), frame_hints=by_frame,
                   hints_source=source,
                   scribbles=scribbles, scribbles_source=scribble_source, reference=reference,
                   reference_strength=strength)

    @classmethod
    def from_keywords(cls, guidance: "Guidance | None", **given) -> "Guidance":
        """``guidance`` itself, or one built from the keywords of :meth:`build` (an API that takes both).

        Raises
        ------
        TypeError
            If both are given.
        """
        if guidance is None:
            return cls.build(**given)
        if any(v is not None for v in given.values()):
            raise TypeError("give either guidance or its keywords (hints, scribbles, reference, ...), not both")
        return guidance

    @property
    def steers_model(self) -> bool:
        """Whether there are hints or scribbles, which only a model that accepts hints takes."""
        return bool(self.hints) or bool(self.frame_hints) or self.scribbles is not None

    @property
    def hints_by_frame(self) -> dict[int, tuple[Hint, ...]]:
        """A video's hints by the frame they start on (those given as :attr:`hints` start on frame 0)."""
        return self.frame_hints or ({0: self.hints} if self.hints else {})

    def check_model(self, model: Colorizer) -> None:
        """Raise ``ValueError`` if hints or scribbles are given to a model that takes none."""
        if self.steers_model and not model.accepts_hints:
            refuse_guide(model, self.hints or self.scribbles)

    def guide(self, shape: tuple[int, int]) -> Guide | None:
        """The hints and scribbles as a Guide at the photo's size (H, W), or None without either.

        Hints are painted over scribbles where both give a colour.

        Raises
        ------
        chromatize.hints.HintError
            If a hint lies outside the photo or the scribbles have another size (naming their source).
        """
        shape = (int(shape[0]), int(shape[1]))
        scribble = None
        if self.scribbles is not None:
            scribble = scribble_guide(self.scribbles, shape, self.scribbles_source)
            scribble = None if scribble.empty else scribble
        hinted = None
        if self.hints:
            check_inside(self.hints, shape, self.hints_source)
            hinted = rasterize(list(self.hints), shape)
        return merge_guides(scribble, hinted)


#: No guidance: the model's own working size and colours.
NO_GUIDANCE = Guidance()
