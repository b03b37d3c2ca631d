"""The process lane: worker processes, each with its own socket and registry of definitions.

See :mod:`.process_lane` for how a call travels and which module does what.
"""

from pygame_async._lanes.process.process_lane import ProcessLane

__all__ = ["ProcessLane"]
