"""Test session setup: generated modules go to a fresh cache folder, so tests never see stale files."""

import os
import tempfile

import pytest

_CACHE = tempfile.mkdtemp(prefix="adjoint-tests-")
os.environ["ADJOINT_CACHE_DIR"] = _CACHE


@pytest.fixture(scope="session")
def cache_dir():
    return _CACHE
