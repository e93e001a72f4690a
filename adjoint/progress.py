"""What adjoint says while it makes the user wait: a line on stderr when a step (a Numba compile) runs
over a second, and one when it ends with its time; at exit, what it is finishing.

Quiet with ADJOINT_QUIET=1. Where the program configured the `adjoint` logger (a level or a handler of
its own), the lines go to it at INFO level instead, so `logging.getLogger("adjoint").setLevel(
logging.WARNING)` silences them too. Plain text, one line each: no cursor movement, whatever stderr is.
"""

import contextlib
import logging
import os
import sys
import threading
import time

LOGGER = logging.getLogger("adjoint")
DELAY = 1.0  # seconds a step runs before it is announced


def say(message):
    """One line of progress, unless quiet was asked."""
    if os.environ.get("ADJOINT_QUIET", "") not in ("", "0"):
        return
    if LOGGER.level != logging.NOTSET or LOGGER.handlers:  # (the program configured it: its choice)
        LOGGER.info(message)
        return
    try:
        sys.stderr.write(f"adjoint: {message}\n")
        sys.stderr.flush()
    except (AttributeError, OSError, ValueError):  # (no stderr, or a closed one, at exit)
        pass


@contextlib.contextmanager
def announced(what):
    """Run the body; when it runs over DELAY seconds, say `what…`, and when it ends, in how long."""
    start = time.perf_counter()
    lock = threading.Lock()
    state = {"said": False, "ended": False}

    def late():
        with lock:
            if not state["ended"]:
                state["said"] = True
                say(f"{what}…")
    timer = threading.Timer(DELAY, late)
    timer.daemon = True
    timer.start()
    failed = True
    try:
        yield
        failed = False
    finally:
        timer.cancel()
        with lock:
            state["ended"] = True
            if state["said"]:
                say(f"{what}: {'failed after' if failed else 'done in'} {time.perf_counter() - start:.1f} s")
