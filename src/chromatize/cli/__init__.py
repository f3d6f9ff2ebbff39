"""The ``chromatize`` command line: thin commands over the library.

Each command parses its arguments and makes one library call; library errors
become one-line messages here, at the edge.

``base`` holds the ``main`` group and what the commands share (the error edge
:class:`Group`, options, progress bars); ``photos`` the commands that work on
photos (``colorize``, ``evaluate``, ``serve``); ``train`` those that train
models (``train cnn|hints|mlp``, ``experiment seed-trials``). Importing this
package adds every command to ``main``.
"""

from . import photos, train  # noqa: F401  (their commands join main)
from .base import Group, main

__all__ = ["main", "Group"]
