"""Demo games for pygame_async; run one with ``python -m demos.<name>``."""
