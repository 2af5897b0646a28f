"""costwarden: cost governance for enterprise generative-AI inference."""

__version__ = "0.1.0"
