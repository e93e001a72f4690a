"""The Dask example runs on a 2-worker LocalCluster, its script's gradient function travelling to the
workers by pickle, and fits its datasets. Skipped where Dask is not installed (`pip install -e ".[dask]"`)."""

import os
import subprocess
import sys

import pytest

pytest.importorskip("dask.distributed", reason="Dask is not installed: pip install -e '.[dask]'")

EXAMPLE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples",
                       "fit_many_datasets.py")


def test_fit_many_datasets_on_two_workers(tmp_path):
    """Run as a user runs it (a script: its functions are __main__'s, which Dask would send by value,
    without their source; adjoint's gradient function sends them by reference to the file)."""
    done = subprocess.run([sys.executable, EXAMPLE, "--datasets", "6", "--workers", "2"], capture_output=True,
                          text=True, cwd=tmp_path, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    first, second = done.stdout.splitlines()[-2:]
    assert first.startswith("6 datasets fitted by 2 local workers")
    damping, frequency = (float(word.rstrip(",")) for word in second.split()[4::2])
    assert damping < 0.05 and frequency < 0.01
