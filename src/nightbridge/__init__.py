"""nightbridge: diabetes data from vendor clouds into Nightscout, and a Nightscout-compatible server."""

__version__ = "0.1.0"
