"""The pygame adapter: completions as pygame events, Surfaces and Masks across processes.

Also the private half of ``pygame_async.assets``: the asset kinds, their
formats, how each is decoded, and the batch that tracks a load.

It plugs into the core's seams with :func:`install`; the core never imports
it.  Nothing here imports pygame until the game has: events use the pygame
the game imported, and the Surface reducers are added to pickling only once
``pygame`` is in ``sys.modules`` (in the game, or in a worker whose function
imported it).
"""

from __future__ import annotations

from pygame_async._core import delivery, lane_seam
from pygame_async._pygame import reducers
from pygame_async._pygame.events import UPDATE_EVENT, event_type_form, request_update

__all__ = ["UPDATE_EVENT", "install"]


def install() -> None:
    """Plug the adapter into the core's delivery and serialization seams, here and in workers."""
    delivery.add_callback_form(event_type_form)
    delivery.set_update_request(request_update)
    reducers.install()
    lane_seam.add_worker_setup(reducers.install)
