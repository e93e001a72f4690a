"""Test session setup: generated modules go to a fresh cache folder, so tests never see stale files."""

import atexit
import os
import shutil
import tempfile

import pytest

_CACHE = tempfile.mkdtemp(prefix="adjoint-tests-")
os.environ["ADJOINT_CACHE_DIR"] = _CACHE
# no native builds in the background (adjoint/backend/native.py) while tests compile hundreds of derivatives:
# tests/test_native.py builds its own
os.environ["ADJOINT_NATIVE"] = "0"
# Numba's optimisation level 1, not 3: the suite compiles about a thousand modules, and checks what they
# compute, not how fast (the benchmark measures that, at Numba's default); level 1 compiles in about 70% of
# the time. Numba's cache does not tell levels apart, so the suite keeps it in its own folder, out of the
# package's __pycache__ that later runs would read. (Set either in the environment to choose otherwise.)
os.environ.setdefault("NUMBA_OPT", "1")
if "NUMBA_CACHE_DIR" not in os.environ:
    os.mkdir(os.path.join(_CACHE, "numba"), 0o700)
    os.environ["NUMBA_CACHE_DIR"] = os.path.join(_CACHE, "numba")
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)  # (after Numba threads still compiling end)


@pytest.fixture(scope="session")
def cache_dir():
    return _CACHE
