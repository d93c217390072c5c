"""Pipeline stages, one thin module each, run as ``python -m stages.<name>``."""
