"""The pygame adapter's part in pickling, which every process that pickles needs.

The game gets it from :func:`pygame_async._pygame.install`; a worker process
runs :func:`install` first (the adapter registers it as a worker setup) and
so imports only this module of the adapter, and pygame only if its function
does.
"""

from __future__ import annotations

import sys
from typing import Any

from pygame_async._core import serialization


def surface_reducers() -> dict[type, Any] | None:
    """Return the Surface and Mask reducers, once this process has imported pygame."""
    if "pygame" not in sys.modules:
        return None
    from pygame_async._pygame.surfaces import pygame_reducers

    return pygame_reducers()


_installed = False


def install() -> None:
    """Let pickling in this process use the Surface and Mask reducers once pygame is imported."""
    global _installed
    if not _installed:
        _installed = True
        serialization.add_reducer_source(surface_reducers)
