"""Lanes: where calls run.  Each lane imports the core, never the reverse."""
