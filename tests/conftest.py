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
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)  # (after Numba threads still compiling end)


@pytest.fixture(scope="session")
def cache_dir():
    return _CACHE
