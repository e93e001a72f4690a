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

The thread is not a daemon: a process that ends while a compile runs waits for it, and the next
process finds the compiled code in Numba's cache.
"""

import ctypes
import sys
import threading
import time


class SwitchToCompiled(BaseException):
    """Raised in a thread running the Python path when the compiled code became ready."""


def _raise_in(thread_id, exc):
    """Make `exc` (None: nothing) pending in another thread (None also clears what is pending)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id),
                                               None if exc is None else ctypes.py_object(exc))


class Compilation:
    """`compile()` running on a thread of its own; `error` is what it raised, if anything. `where`
    is the file of the code that may be interrupted (the generated module)."""

    def __init__(self, compile, where):
        self._where = where
        self.done = threading.Event()
        self.error = None
        self._lock = threading.Lock()
        self._running_python = set()  # threads in `race`, to be switched when the compile ends
        self._switched = set()  # threads a switch was sent to
        self._compile = compile
        threading.Thread(target=self._run, name="adjoint: numba compile").start()

    def _run(self):
        try:
            self._compile()
        except Exception as e:  # noqa: BLE001 -- whatever Numba raised: the caller reports it
            self.error = e
        with self._lock:
            self.done.set()
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
