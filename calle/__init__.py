"""CALLE: predictive inspection targeting for labor inspectorates."""

__version__ = "0.1.0"
