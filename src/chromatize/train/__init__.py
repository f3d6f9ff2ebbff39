"""Training: the report's MLP (``mlp``), the CNN (``cnn``, its run in ``cnn_run``) with its decoding tuning
(``tune``) and bins (``bins``).

Modules here need the ``[train]`` extra (torch) except ``mlp`` and ``bins``;
import them directly (``from chromatize.train.cnn import train_cnn``) so that
the MLP trains without torch.
"""
