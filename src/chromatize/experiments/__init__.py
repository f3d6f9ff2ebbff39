"""Experiments: the course report's seed trials (``seed_trials``), their building blocks
(``trials``), figures and reports (``figures``), and the CNN as a trial kind (``cnn_kind``).
"""
