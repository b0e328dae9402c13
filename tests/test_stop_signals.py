"""A stop request can't be lost: a raise swallowed by a callback is raised again; during wind-down it waits."""

import os
import signal
import time

import pytest

from src.stop_signals import HeldCalls, StopGuard, StopRequested


@pytest.fixture
def guard():
    guard = StopGuard(retry_seconds=0.2)
    guard.install()
    yield guard
    guard.restore()


def test_sigterm_raises_stop_requested_with_exit_status_143(guard):
    with pytest.raises(StopRequested) as caught:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(2)
    assert caught.value.code == 143 and guard.signum == signal.SIGTERM


def test_a_swallowed_stop_is_raised_again(guard):
    """What Python does to an exception raised inside a weakref callback or __del__: prints it and drops it.
    Before StopGuard, the stage then ran on to the end and exited 0."""
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(2)
    except StopRequested:
        pass  # the swallowing callback
    with pytest.raises(StopRequested):
        time.sleep(5)  # the watchdog raises it again within retry_seconds


def test_deferred_signal_is_recorded_not_raised(guard):
    guard.defer()
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.5)  # no exception: the wind-down is not cut in half
    assert guard.signum == signal.SIGINT
    guard.raise_if_requested()  # deferring: still nothing raised


def test_restore_gives_back_the_previous_handlers():
    before = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    guard = StopGuard()
    guard.install()
    assert signal.getsignal(signal.SIGTERM) == guard._on_signal
    guard.restore()
    assert {signum: signal.getsignal(signum) for signum in before} == before


def test_a_signal_during_a_held_section_is_raised_after_it(guard):
    finished = []
    with pytest.raises(StopRequested):
        with guard.held():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.5)  # the watchdog retries too (retry_seconds=0.2): still not raised inside
            finished.append(True)
    assert finished == [True]


def test_held_calls_hold_the_stop_during_each_call(guard):
    class Store:
        written = False

        def write(self):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.3)
            self.written = True

    store = Store()
    with pytest.raises(StopRequested):
        HeldCalls(store, guard).write()  # the call completes; the stop is raised as it returns
    assert store.written and guard.signum == signal.SIGTERM
