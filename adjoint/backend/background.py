"""Numba compiling on a thread of its own while the caller runs the Python path (jit=None, loop code).

A generated derivative with loops runs at Numba's speed once compiled, but compiling can take
seconds, more than the Python path needs for many calls. So `jit=None` starts the compile on a
thread and runs Python meanwhile; if the compile ends first, the Python call is interrupted and
the compiled code runs instead. The first gradient therefore costs about the shorter of the two,
and never much more than the compile would have alone.

The interruption is an exception raised in the calling thread (CPython's
`PyThreadState_SetAsyncExc`), sent only while that thread runs the generated function's own code
(its frame is on top), so that it fires there or as a function it calls starts, never inside a
library in the middle of its work (an import holding a lock, say). The Python path has no effects
but its result (generated code copies any input it writes into), so stopping it there is safe.
`SwitchToCompiled` derives from BaseException, so that `except Exception` in library code between
does not swallow it.

A process that ends while a compile runs finishes it first, saying so on stderr (after half a
second), so that the next process finds the compiled code in Numba's cache; Ctrl-C there leaves it
unfinished for a later process to compile (the thread is a daemon, stopped as the process ends).
"""

import atexit
import ctypes
import sys
import threading
import time

from .. import progress


class SwitchToCompiled(BaseException):
    """Raised in a thread running the Python path when the compiled code became ready."""


def _raise_in(thread_id, exc):
    """Make `exc` (None: nothing) pending in another thread (None also clears what is pending)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id),
                                               None if exc is None else ctypes.py_object(exc))


class Compilation:
    """`compile()` running on a thread of its own; `error` is what it raised, if anything. `where`
    is the file of the code that may be interrupted (the generated module), `what` the compile in words."""

    def __init__(self, compile, where, what):
        self._where, self.what, self.started = where, what, time.perf_counter()
        self.done = threading.Event()
        self.error = None
        self._lock = threading.Lock()
        self._running_python = set()  # threads in `race`, to be switched when the compile ends
        self._switched = set()  # threads a switch was sent to
        self._compile = compile
        _RUNNING.add(self)
        threading.Thread(target=self._run, name="adjoint: numba compile", daemon=True).start()

    def _run(self):
        try:
            self._compile()
        except Exception as e:  # noqa: BLE001 -- whatever Numba raised: the caller reports it
            self.error = e
        with self._lock:
            self.done.set()
        _RUNNING.discard(self)
        while self.error is None:  # switch each thread in `race` once it is in the generated code
            with self._lock:
                waiting = self._running_python - self._switched
                frames = sys._current_frames()
                for thread_id in waiting:
                    frame = frames.get(thread_id)
                    if frame is not None and frame.f_code.co_filename == self._where:
                        _raise_in(thread_id, SwitchToCompiled)
                        self._switched.add(thread_id)
                if not self._running_python - self._switched:
                    return
            time.sleep(0.0005)

    def race(self, python, compiled):
        """python(), unless the compile ends successfully first: then compiled()."""
        me = threading.get_ident()
        try:
            try:
                with self._lock:
                    if self.done.is_set() and self.error is None:
                        raise SwitchToCompiled
                    self._running_python.add(me)
                result = python()
            finally:
                with self._lock:
                    self._running_python.discard(me)
                    switched = me in self._switched
            if switched:  # sent as python() returned: drop it (or it fires here, and is caught)
                _raise_in(me, None)
            return result
        except SwitchToCompiled:
            return compiled()


_RUNNING = set()  # the Compilations whose thread runs
GRACE = 0.5  # seconds an exit waits for them before it says so


@atexit.register
def _finish():
    """At exit: wait for the compiles still running (their code is then in Numba's cache for the next
    process), saying so when that takes over half a second; Ctrl-C leaves them to a later process."""
    running = [c for c in list(_RUNNING) if not c.done.wait(GRACE)]
    if not running:
        return
    what = "; ".join(f"{c.what}, started {time.perf_counter() - c.started:.0f} s ago," for c in running)
    progress.say(f"finishing {what} before exiting, for later processes to load (Ctrl-C leaves it to them)")
    try:
        for c in running:
            c.done.wait()
    except KeyboardInterrupt:
        progress.say("left unfinished: a later process compiles it again")
