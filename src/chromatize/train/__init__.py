"""Training: the report's MLP (``mlp``), the CNN (``cnn``, its run in ``cnn_run``, on several processes
``distributed``) with its decoding tuning (``tune``) and bins (``bins``), and the hint head (``hints``).

The CNN's loops and the hint head's share one skeleton, ``run_loop`` (steps,
time budget, validation, best-keeping, checkpoints, resume, progress).

Modules here need the ``[train]`` extra (torch) except ``mlp``, ``bins`` and
``run_loop``; import them directly (``from chromatize.train.cnn import
train_cnn``) so that the MLP trains without torch.
"""
