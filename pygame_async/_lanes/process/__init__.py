"""The process lane: worker processes, each with its own pipe and registry of definitions."""
