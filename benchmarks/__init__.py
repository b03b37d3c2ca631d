"""Benchmarks of pygame_async against other process pools: ``python -m benchmarks.run``."""
