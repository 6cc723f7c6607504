"""nightbridge: diabetes data from vendor clouds into Nightscout; a Nightscout-compatible server."""

__version__ = "0.1.0"
