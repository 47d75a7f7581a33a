"""Benchmarks of the SDK against raw httpx in the same run; see ``benchmarks/README.md``."""
