"""The packaging job's image: ``python -m containers.packager.entrypoint``."""
