"""``hpo.interrupts``: SIGTERM handled as Ctrl-C where ``interrupt_on_terminate`` is active,
and held off like it during a write."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from hpo.interrupts import deferred_interrupt, interrupt_on_terminate, uninterrupted


def test_sigterm_raises_keyboard_interrupt_inside_and_not_after():
    before = signal.getsignal(signal.SIGTERM)
    with interrupt_on_terminate():
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGTERM)
            threading.Event().wait(5)  # the handler runs at the next bytecode; this is not reached
    assert signal.getsignal(signal.SIGTERM) is before


def test_sigterm_is_held_off_during_a_write_and_raised_after_it():
    written = []
    with interrupt_on_terminate():
        with pytest.raises(KeyboardInterrupt):
            with uninterrupted():
                os.kill(os.getpid(), signal.SIGTERM)
                written.append("whole")  # the write finishes first
        assert written == ["whole"]
        with deferred_interrupt() as received:
            os.kill(os.getpid(), signal.SIGTERM)
        assert received == [signal.SIGTERM]


def test_without_interrupt_on_terminate_sigterm_is_left_alone():
    # a library caller's own SIGTERM handling is not touched by the write protection
    calls = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: calls.append(signum))
    try:
        with deferred_interrupt() as received:
            os.kill(os.getpid(), signal.SIGTERM)
        assert calls == [signal.SIGTERM] and received == []
    finally:
        signal.signal(signal.SIGTERM, previous)
