"""Ctrl-C held off while something must happen whole: storage writes, checkpoints, the
start and the stop of a thread.

``deferred_interrupt()`` records SIGINT instead of raising inside its block and yields the
list of signals received, so the caller finishes the write and then raises
``KeyboardInterrupt`` itself; ``uninterrupted()`` does both. ``running(start, stop)`` is for
threads (Optuna's heartbeat, tqdm's monitor): a Ctrl-C landing right after a thread starts
would skip the code that stops it, and a non-daemon thread left running keeps the
interpreter from exiting (``threading._shutdown`` waits for it forever).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

T = TypeVar("T")


@contextlib.contextmanager
def deferred_interrupt() -> Iterator[list[int]]:
    """Record SIGINT instead of raising inside the block; yields the list of signals
    received. Outside the main thread (signals cannot be handled there) and where SIGINT
    is ignored, a no-op."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        yield received
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield received
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def uninterrupted() -> Iterator[None]:
    """Run the block with Ctrl-C held off, then raise ``KeyboardInterrupt`` if one came."""
    with deferred_interrupt() as received:
        yield
    if received:
        raise KeyboardInterrupt


@contextlib.contextmanager
def running(start: Callable[[], T], stop: Callable[[T], object]) -> Iterator[T]:
    """``start()``'s result for the block, and ``stop(it)`` whatever ends the block. Neither
    call can be cut by Ctrl-C; one received during ``start`` is raised inside the block (so
    ``stop`` still runs), one received during ``stop`` after it."""
    with deferred_interrupt() as received:
        thing = start()
    try:
        if received:
            raise KeyboardInterrupt
        yield thing
    finally:
        with uninterrupted():
            stop(thing)
