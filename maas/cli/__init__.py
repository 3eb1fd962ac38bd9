"""The ``maas`` command line (Typer + Rich)."""
