"""Turn SIGTERM and Ctrl-C into a clean stop of a stage, one that cannot be lost.

Why not simply `raise SystemExit` in a signal handler: Python runs the handler between two bytecodes of the
main thread, wherever that thread is, including inside a weakref callback or a `__del__` method. An exception
raised there is printed ("Exception ignored in: ... WeakKeyDictionary ... SystemExit: 143") and dropped, and the
stage runs on to the end as if nobody had asked it to stop.

So a stop request is recorded first (a flag) and then raised; and until the stage begins to wind down, a watchdog
thread raises it again every `retry_seconds` (`_thread.interrupt_main` runs the handler once more in the main
thread). A raise that lands in a callback is retried, never lost. Once the stage writes its outputs and closes its
runs, signals are only recorded ("deferred"), so that wind-down can't be cut in half; the recorder then ends the
stage with exit status 128 + the signal's number, as a shell reports a process killed by it.

A write to the tracking store must not be cut in half either: a stop raised inside SQLAlchemy's commit leaves a
sqlite connection holding the write lock, and closing the runs then fails with "database is locked" (they stay
RUNNING). So calls made through `HeldCalls` run with the stop held: a signal during one is recorded and raised
as soon as the call returns.
"""

import _thread
import functools
import signal
import threading
from contextlib import contextmanager

HANDLED = (signal.SIGTERM, signal.SIGINT)


class StopRequested(SystemExit):
    """Raised in the main thread when SIGTERM or SIGINT asks the stage to stop; exit status 128 + signum."""

    def __init__(self, signum: int):
        super().__init__(128 + signum)
        self.signum = signum

    def __str__(self) -> str:
        return f"stopped by {signal.Signals(self.signum).name}"


class StopGuard:
    """Install with `install()` at the start of the work, `defer()` when winding down, `restore()` at the end."""

    def __init__(self, retry_seconds: float = 2.0):
        self.retry_seconds = retry_seconds
        self.signum: int | None = None  # the first stop signal received, if any
        self._deferring = False
        self._held = 0  # depth of `held()` sections: a signal inside one is raised when the outermost ends
        self._previous: dict[int, object] = {}
        self._watchdog: threading.Thread | None = None
        self._done = threading.Event()

    def install(self) -> bool:
        """Take over SIGTERM and SIGINT. Python allows handlers only in the main thread: elsewhere do nothing."""
        if threading.current_thread() is not threading.main_thread():
            return False
        for signum in HANDLED:
            self._previous[signum] = signal.signal(signum, self._on_signal)
        return True

    def defer(self):
        """From now on a signal is recorded, not raised (the recorder checks `signum` when it is done)."""
        self._deferring = True

    def restore(self):
        """Give the previous handlers back and stop the watchdog."""
        self._done.set()
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    @contextmanager
    def held(self):
        """A section a stop must not interrupt; a signal that arrives during it is raised right after it."""
        self._held += 1
        try:
            yield
        finally:
            self._held -= 1
        if self._held == 0:
            self.raise_if_requested()

    def raise_if_requested(self):
        """For code that polls: raise StopRequested if a stop came in (e.g. one whose raise was swallowed)."""
        if self.signum is not None and not self._deferring:
            raise StopRequested(self.signum)

    def _on_signal(self, signum, frame):
        if self.signum is None:
            self.signum = signum
        if self._deferring:
            return
        if self._watchdog is None:
            self._watchdog = threading.Thread(target=self._raise_again_until_unwinding, daemon=True)
            self._watchdog.start()
        if self._held:  # inside a store write: `held()` raises it when the write is done
            return
        raise StopRequested(self.signum)

    def _raise_again_until_unwinding(self):
        while not self._done.wait(self.retry_seconds):
            if self._deferring:
                return
            _thread.interrupt_main(self.signum)  # runs _on_signal again in the main thread


class HeldCalls:
    """`obj` whose method calls each run inside `guard.held()` (used for the MLflow client)."""

    def __init__(self, obj, guard: StopGuard):
        self._obj = obj
        self._guard = guard

    def __getattr__(self, name):
        attribute = getattr(self._obj, name)
        if not callable(attribute):
            return attribute

        @functools.wraps(attribute)
        def call_held(*args, **kwargs):
            with self._guard.held():
                return attribute(*args, **kwargs)

        return call_held
