"""``python -m chromatize`` runs the CLI."""

from .cli import main

main()
