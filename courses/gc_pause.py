"""Python's cycle collector held back while one large batch of rows is built and written."""

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Run the block with the cycle collector off (as it was before, afterwards).

    An import of thousands of rows allocates a few objects per row, nearly all freed by reference
    counting as soon as they are used. Those allocations still count towards the collector's
    thresholds, and every tenth young collection moves on to the older ones: one 10,000-row import
    set off a full collection, a walk over every object of the process (Django's own included),
    that cost a third of the import's time. Reference cycles made meanwhile are collected once the
    block ends. Process-wide: a second thread running its own block at the same time finds the
    collector already off and leaves it to the first to switch it on again.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
