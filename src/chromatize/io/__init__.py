"""Images in and out: safe reading, atomic writing, listing inputs.

``images`` decodes any common image into 8-bit RGB plus alpha with one-line
errors and writes images atomically; ``atomic`` holds the temp-file-then-rename
helper that every file chromatize writes goes through; ``uri`` reaches files
named by URIs (``s3://``, ``gs://``, ``file://``) through pyarrow's filesystems;
``video`` reads and re-encodes videos through PyAV.
"""

from .atomic import OutputExistsError, atomic_output, atomic_write_text, clean_temp_files, is_temp_file, temp_prefix
from .images import (
    DEFAULT_MAX_PIXELS,
    IMAGE_SUFFIXES,
    OUTPUT_MARK,
    ImageReadError,
    Photo,
    as_photo,
    decode_image,
    encode_png,
    list_images,
    read_image,
    thumbnail,
    write_image,
    written_by_chromatize,
)
from .uri import UriPath, as_path, is_uri, location
from .video import (VIDEO_SUFFIXES, VideoEncoding, VideoInfo, VideoReadError, is_video, probe_video, read_frames,
                    transcode_video, video_output_suffix, video_written_by_chromatize)

__all__ = [
    "IMAGE_SUFFIXES", "DEFAULT_MAX_PIXELS", "ImageReadError", "OutputExistsError", "Photo",
    "read_image", "decode_image", "encode_png", "thumbnail", "write_image", "written_by_chromatize", "OUTPUT_MARK",
    "list_images",
    "as_photo", "atomic_output", "atomic_write_text", "clean_temp_files", "is_temp_file", "temp_prefix",
    "UriPath", "as_path", "is_uri", "location",
    "VIDEO_SUFFIXES", "VideoEncoding", "VideoInfo", "VideoReadError", "is_video", "probe_video", "read_frames",
    "transcode_video", "video_output_suffix", "video_written_by_chromatize",
]
