"""chromatize: turn grayscale photographs into colour ones.

The public API::

    import chromatize
    rgb = chromatize.colorize("old_photo.jpg")            # default model
    rgb = chromatize.colorize(gray_array, model="mlp")    # the report's MLP
    model = chromatize.load_model("path/to/model")
    chromatize.colorize_files(["scans/"], "out/", guidance=chromatize.Guidance.build(saturation=1.2))
"""

from .batch import colorize_files
from .guidance import Guidance
from .infer import colorize
from .io import ImageReadError, read_image, write_image
from .models import ModelFormatError, bundled_models, load_model

__version__ = "0.1.0"

__all__ = [
    "colorize",
    "colorize_files",
    "Guidance",
    "load_model",
    "bundled_models",
    "read_image",
    "write_image",
    "ImageReadError",
    "ModelFormatError",
    "__version__",
]
