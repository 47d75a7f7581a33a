"""The one place the package version lives (read by hatchling, ``meshapi.__version__`` and the SDK header)."""

__version__ = "0.3.0"
