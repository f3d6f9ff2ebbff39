"""Colorizing many files: outputs named after inputs, bad files reported, not fatal, reruns resume.

The per-file rules are public so that a distributed runner can use them:
:func:`plan_outputs` decides every output path up front (layout kept, clashes
renamed, never over an input), :func:`colorize_one` does one file (skip if
done, read, colorize, write atomically) and returns a :class:`FileOutcome`
instead of raising, and :meth:`BatchResult.add` collects the outcomes.
:func:`start_batch` is everything before the first file (checks, plan, model,
temp-file clean-up); :func:`colorize_files` is it and a loop over the jobs.

Inputs and the output folder may also be URIs (``s3://bucket/scans``,
``gs://...``, ``file:///...``), reached through pyarrow's filesystems
(:class:`chromatize.io.UriPath`): one listing per input folder, the same
names, skip, overwrite and error rules; a URI output is written whole in one
put (an object store has no rename).

``inputs`` finds the input images (:func:`find_inputs`), ``plan`` names every
output (:func:`plan_outputs`), and ``run`` colorizes them (:func:`colorize_one`,
:func:`start_batch`, :func:`colorize_files`); ``ray`` runs the same jobs on
Ray Data (:func:`chromatize.batch.ray.colorize_files_ray`; imports ray only
when called). The names callers need are re-exported here.
"""

from .inputs import find_inputs, sample_images
from .plan import Job, Plan, output_suffix, plan_outputs
from .run import BatchOptions, BatchResult, FileOutcome, colorize_files, colorize_one, start_batch

__all__ = [
    "Job", "Plan", "BatchOptions", "FileOutcome", "BatchResult", "find_inputs", "output_suffix", "plan_outputs", "colorize_one",
    "start_batch", "colorize_files", "sample_images",
]
