"""Ctrl-C held off while something must happen whole: storage writes, checkpoints, the
start and the stop of a thread.

``deferred_interrupt()`` records SIGINT (and SIGTERM where it raises ``KeyboardInterrupt``,
as the ``hpo`` command makes it: ``interrupt_on_terminate``) instead of raising inside its
block and yields the list of signals received, so the caller finishes the write and then
raises ``KeyboardInterrupt`` itself; ``uninterrupted()`` does both. ``running(start, stop)`` is for
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
    """Record SIGINT, and SIGTERM where it raises ``KeyboardInterrupt``, instead of raising
    inside the block; yields the list of signals received. Outside the main thread (signals
    cannot be handled there) a no-op, and an ignored SIGINT stays ignored."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return
    deferred = [signal.SIGINT] if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN else []
    if signal.getsignal(signal.SIGTERM) is signal.default_int_handler:
        deferred.append(signal.SIGTERM)
    previous = {signum: signal.signal(signum, lambda signum, frame: received.append(signum)) for signum in deferred}
    try:
        yield received
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextlib.contextmanager
def interrupt_on_terminate() -> Iterator[None]:
    """SIGTERM (``kill``, a container or batch system stopping the process) raises
    ``KeyboardInterrupt`` in the block, as Ctrl-C does: the same clean stop (finished work
    kept, nothing left running) instead of an immediate exit that skips it. In the main
    thread only; the previous handler is restored afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


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
