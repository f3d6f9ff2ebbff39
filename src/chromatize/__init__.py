"""chromatize: turn grayscale photographs into colour ones.

The public API::

    import chromatize
    rgb = chromatize.colorize("old_photo.jpg")            # default model
    rgb = chromatize.colorize(gray_array, model="mlp")    # the report's MLP
    model = chromatize.load_model("path/to/model")
    chromatize.colorize_files(["scans/"], "out/", guidance=chromatize.Guidance.build(saturation=1.2))
    chromatize.colorize_video("film.mp4", "out/film.mp4")  # steady colours, audio kept
    for rgb in chromatize.colorize_frames(gray_frames): ...  # arrays in, arrays out
"""

from .batch import BatchOptions, colorize_files
from .guidance import Guidance
from .infer import colorize
from .io import ImageReadError, VideoReadError, read_image, write_image
from .models import ModelFormatError, bundled_models, load_model
from .video import colorize_frames, colorize_video

__version__ = "0.1.0"

__all__ = [
    "colorize",
    "colorize_files",
    "BatchOptions",
    "Guidance",
    "colorize_video",
    "colorize_frames",
    "load_model",
    "bundled_models",
    "read_image",
    "write_image",
    "ImageReadError",
    "VideoReadError",
    "ModelFormatError",
    "__version__",
]
