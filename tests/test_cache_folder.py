"""The cache folder (adjoint/backend/cache.py): a damaged file heals itself, nothing planted runs, nothing is
written through a symlink or readable by others, a folder that cannot be written or trusted degrades to
one warning, and the folder keeps under its size bound. Every damaged, planted and symlinked file here
is made by the test itself."""

import errno
import json
import os
import stat
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import adjoint
from adjoint import arguments, cli
from adjoint.backend import cache, dispatch, emit, native

KERNEL = textwrap.dedent('''
    import numpy as np

    def f(x):
        s = 0.0
        for i in range(x.shape[0]):
            s = s + np.sin(x[i]) * x[i]
        return s
''')

X = np.linspace(0.1, 1.0, 5)
RIGHT = np.sin(X) + X * np.cos(X)


@pytest.fixture(autouse=True)
def numba_cache_beside_the_modules(monkeypatch):
    """Numba's cache where it is by default, beside each generated module in the cache folder (the suite
    gives Numba a folder of its own: tests/conftest.py), as these tests look for it."""
    monkeypatch.setattr(numba_config(), "CACHE_DIR", "")
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)


def settle():
    """Wait for Numba compiles running on threads (jit=None): Numba's compiler enters and leaves
    warnings.catch_warnings, which is not thread-safe, and would undo a test's record of warnings."""
    for t in threading.enumerate():
        if t.name == "adjoint: numba compile":
            t.join()


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A cold cache folder of this test's own, and the kernel in a file of its own."""
    settle()
    (tmp_path / "cache_kernel.py").write_text(KERNEL)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("ADJOINT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))  # (where a fallback folder would go)
    monkeypatch.setattr(cache, "_CHOSEN", {})
    monkeypatch.setattr(cache, "_WARNED", set())
    import cache_kernel  # noqa: F401 -- (loaded: gradient() finds it)
    yield tmp_path / "cache"
    settle()
    del sys.modules["cache_kernel"]
    forget()


def forget():
    """Forget every Derivative of the kernel made in this process: the next call reads the cache again."""
    for key in [k for k in dispatch._CACHE if getattr(k[0], "__module__", "") == "cache_kernel"]:
        del dispatch._CACHE[key]


def gradient(jit):
    """The kernel's gradient, made again from the cache folder, and the Derivative that gave it."""
    import cache_kernel
    forget()
    g = adjoint.grad(cache_kernel.f, jit=jit)(X)
    return g, dispatch.last_run(cache_kernel.f, ("x",), jit)


def generated_path():
    return gradient(False)[1].generated.path


JITS = [False, True, None]


def damage_text(text):
    return {"empty": "", "truncated": text[: len(text) // 2], "garbage": "\x00\x17garbage(\n",
            # a module that would give a fake gradient under the name of the real one
            "planted": text.split("\ndef ")[0] + "\ndef f_vjp(x, g):\n    return 0.0, np.full(x.shape, 42.0)\n"}


@pytest.mark.parametrize("jit", JITS)
@pytest.mark.parametrize("damage", ["empty", "truncated", "garbage", "planted"])
def test_a_damaged_or_planted_generated_module_is_written_again(folder, jit, damage):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.allclose(gradient(jit)[0], RIGHT)
        path = Path(generated_path())
        text = path.read_text()
        path.write_text(damage_text(text)[damage])
        g, d = gradient(jit)
        assert np.allclose(g, RIGHT)
        assert path.read_text() == text  # written again, from the source
        if jit:
            assert d.jit_status.startswith("numba")


@pytest.mark.parametrize("damage", ["garbage", "another key", "another module", "missing module"])
def test_a_damaged_or_planted_key_file_is_not_followed(folder, damage):
    assert np.allclose(gradient(False)[0], RIGHT)
    (key_file,) = folder.glob("text_*.json")
    note = json.loads(key_file.read_text())
    text = Path(generated_path()).read_text()
    if damage == "garbage":
        key_file.write_text("{not json")
    elif damage == "another key":
        key_file.write_text(json.dumps(dict(note, key="0" * 32)))
    else:  # a module that hashes to its own name, but is the derivative of another function
        other = damage_text(text)["planted"].replace(" of f (", " of g (", 1)
        name, _ = emit.write(other, "f") if damage == "another module" else ("adjoint_f_" + "0" * 16, None)
        key_file.write_text(json.dumps(dict(note, module=name)))
    assert np.allclose(gradient(False)[0], RIGHT)
    assert json.loads(key_file.read_text()) == note


@pytest.mark.parametrize("jit", [True, None])
@pytest.mark.parametrize("damage", ["index", "data"])
def test_a_numba_cache_file_that_cannot_be_read_is_compiled_again(folder, jit, damage):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.allclose(gradient(True)[0], RIGHT)
        (damaged,) = (folder / "__pycache__").glob("*.nbi" if damage == "index" else "*.nbc")
        damaged.write_bytes(damaged.read_bytes()[:40])
        g, d = gradient(jit)
        assert np.allclose(g, RIGHT) and d.jit_status.startswith("numba")
        g, d = gradient(jit)  # (and the next process finds it whole again)
        assert np.allclose(g, RIGHT) and d.jit_status.startswith("numba")
        assert d.numba().stats.cache_hits


def test_a_numba_index_that_is_not_the_users_own_is_not_read(folder):
    assert np.allclose(gradient(True)[0], RIGHT)
    (index,) = (folder / "__pycache__").glob("*.nbi")
    index.chmod(0o666)  # (others could have written it)
    g, d = gradient(True)
    assert np.allclose(g, RIGHT) and not d.numba().stats.cache_hits
    assert stat.S_IMODE(index.stat().st_mode) == 0o600


def test_the_folder_and_every_file_in_it_are_the_users_alone(folder):
    for jit in JITS:
        gradient(jit)
    mode = lambda p: stat.S_IMODE(os.lstat(p).st_mode)
    assert mode(folder) == 0o700 and mode(folder / "__pycache__") == 0o700
    files = [os.path.join(d, n) for d, _, names in os.walk(folder) for n in names]
    assert len(files) >= 5 and all(mode(p) == 0o600 for p in files), {p: oct(mode(p)) for p in files}


@pytest.mark.parametrize("at", ["module", "key"])
def test_a_symlink_in_the_folder_is_replaced_not_written_through(folder, tmp_path, at):
    gradient(False)
    path = generated_path() if at == "module" else str(next(folder.glob("text_*.json")))
    victim = tmp_path / "victim.txt"
    victim.write_text("the user's own file")
    os.remove(path)
    os.symlink(victim, path)
    if at == "key":
        os.remove(generated_path())  # (so that the key file is written again)
    assert np.allclose(gradient(False)[0], RIGHT)
    assert victim.read_text() == "the user's own file"
    assert not os.path.islink(path) and os.path.isfile(path)


def ours(caught):
    """adjoint's warnings among those caught (not, say, a ResourceWarning of another test's garbage)."""
    return [w for w in caught if str(w.message).startswith("adjoint:")]


def written_into(path):
    return sorted(p for p in os.listdir(path) if p != "__pycache__") if os.path.isdir(path) else []


def test_a_folder_others_can_write_is_not_used(folder):
    folder.mkdir()
    folder.chmod(0o777)
    with pytest.warns(UserWarning, match="others can write into it") as caught:
        g, d = gradient(None)
        gradient(True)
        settle()
    assert np.allclose(g, RIGHT) and len(ours(caught)) == 1
    assert written_into(folder) == []
    assert d.generated.path.startswith(str(folder.parent / "xdg" / "adjoint"))


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to give a folder away")
def test_a_folder_of_another_user_is_not_used(folder):
    folder.mkdir(mode=0o700)
    os.chown(folder, 65534, 65534)
    with pytest.warns(UserWarning, match="belongs to another user"):
        assert np.allclose(gradient(True)[0], RIGHT)
    assert written_into(folder) == []


def refuse_replace(monkeypatch, code, under):
    """os.replace fails with errno `code` for files it would put under the folder `under`."""
    replace = os.replace

    def refused(src, dst, *args, **kwargs):
        if str(dst).startswith(under):
            raise OSError(code, os.strerror(code))
        return replace(src, dst, *args, **kwargs)
    monkeypatch.setattr(os, "replace", refused)


@pytest.mark.parametrize("jit", JITS)
@pytest.mark.parametrize("why", ["under a file", "full", "read-only"])
def test_a_folder_that_cannot_be_written_runs_from_memory_with_one_warning(folder, monkeypatch, jit, why):
    if why == "under a file":
        folder.write_text("a file")
        monkeypatch.setenv("ADJOINT_CACHE_DIR", str(folder / "cache"))
    else:  # (the temporary file is made, and must go)
        refuse_replace(monkeypatch, errno.ENOSPC if why == "full" else errno.EROFS, str(folder))
    with pytest.warns(UserWarning, match="runs from memory") as caught:
        g, d = gradient(jit)
        g2, _ = gradient(jit)
        settle()
    assert np.allclose(g, RIGHT) and np.allclose(g2, RIGHT) and len(ours(caught)) == 1
    assert emit.in_memory(d.generated.path) and native.enabled() is False
    if folder.is_dir():
        assert written_into(folder) == [] or all(not p.endswith(".tmp") for p in written_into(folder))


@pytest.mark.parametrize("content", ["garbage", "a live process that is no build"])
def test_a_lock_file_left_with_anything_in_it_does_not_stop_builds(folder, monkeypatch, content):
    folder.mkdir(mode=0o700)
    unrelated = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (folder / "native.building").write_text("garbage" if content == "garbage" else str(unrelated.pid))
        args = ("native_nothing_0", "adjoint_nothing", str(folder / "missing.py"), "f", ())
        assert native.request(*args, wait=True).returncode == 0  # (the build ran: it marked this one failed)
        assert (folder / "native_nothing_0.failed").exists()
    finally:
        unrelated.kill()
        unrelated.wait()


def test_the_build_runs_isolated_from_the_current_folder(folder, monkeypatch, tmp_path):
    """A `json.py` in the folder the user runs from is not imported by the build process."""
    folder.mkdir(mode=0o700)
    (tmp_path / "json.py").write_text(f"open({str(tmp_path / 'ran')!r}, 'w').close()\nfrom _json import *\n")
    monkeypatch.chdir(tmp_path)
    args = ("native_nothing_0", "adjoint_nothing", str(folder / "missing.py"), "f", ())
    assert native.request(*args, wait=True).returncode == 0
    assert not (tmp_path / "ran").exists() and (folder / "native_nothing_0.failed").exists()


def test_a_killed_build_leaves_nothing_behind_after_the_next(folder, monkeypatch):
    monkeypatch.setenv("ADJOINT_NATIVE", "1")
    folder.mkdir(mode=0o700)
    left = folder / "native-build-killed"
    (left / "inner").mkdir(parents=True)
    args = ("native_nothing_0", "adjoint_nothing", str(folder / "missing.py"), "f", ())
    assert native.request(*args, wait=True).returncode == 0
    assert not left.exists() and not list(folder.glob("native-build-*")) and not list(folder.glob("*.spec"))


def test_a_folder_or_a_fifo_where_a_file_goes_is_damage_that_heals(folder):
    assert np.allclose(gradient(False)[0], RIGHT)
    path = Path(generated_path())
    (key_file,) = folder.glob("text_*.json")
    path.unlink()
    path.mkdir()
    (path / "inside").write_text("x")
    key_file.unlink()
    os.mkfifo(key_file)
    for jit in JITS:
        assert np.allclose(gradient(jit)[0], RIGHT)
    assert path.is_file() and key_file.is_file()


def test_a_module_file_gone_since_it_was_written_is_written_again_for_numba(folder):
    import cache_kernel

    values, kinds = arguments.bind(cache_kernel.f, ("x",), (X,), {})
    d = dispatch.Derivative(cache_kernel.f, ("x",), True, True, kinds)
    os.remove(d.generated.path)  # (a size bound, or `adjoint cache clear`, in another process)
    assert np.allclose(d(values, 1.0)[1], RIGHT) and d.jit_status == "numba"
    assert os.path.isfile(d.generated.path) and d.numba().stats.cache_misses  # (kept in Numba's cache)


def test_a_numba_data_file_that_is_not_the_users_own_is_not_read(folder):
    assert np.allclose(gradient(True)[0], RIGHT)
    (data,) = (folder / "__pycache__").glob("*.nbc")
    data.chmod(0o666)  # (others could have written it)
    g, d = gradient(True)
    assert np.allclose(g, RIGHT) and not d.numba().stats.cache_hits


def test_a_numba_cache_folder_others_can_write_is_not_used(folder, monkeypatch, tmp_path):
    from adjoint.backend import jit

    monkeypatch.setattr(numba_config(), "CACHE_DIR", str(tmp_path / "numba-cache"))  # (NUMBA_CACHE_DIR)
    generated = gradient(False)[1].generated
    fn = emit.load(generated.module, generated.path, generated.text).f_vjp
    where = jit.compile_function(fn)._cache._cache_path  # (a private folder of Numba's: used)
    os.chmod(where, 0o777)
    with pytest.warns(UserWarning, match="Numba's cache folder"):
        dispatcher = jit.compile_function(fn)
    assert not hasattr(dispatcher._cache, "_cache_path")  # (compiled in each process)


def numba_config():
    from numba.core import config

    return config


def test_numba_that_cannot_write_its_cache_compiles_without_it(folder, monkeypatch):
    refuse_replace(monkeypatch, errno.ENOSPC, str(folder / "__pycache__"))
    with pytest.warns(UserWarning, match="No space left on device") as caught:
        g, d = gradient(True)
    assert np.allclose(g, RIGHT) and d.jit_status == "numba" and len(ours(caught)) == 1


def test_the_demo_puts_nothing_of_the_cache_folder_on_the_import_path(folder, capsys):
    before = list(sys.path)
    assert cli.main(["demo", "-n", "1000"]) == 0
    assert sys.path == before and str(folder) not in sys.path
    assert "gradient, adjoint jit=True" in capsys.readouterr().out


def test_cache_info_and_clear(folder, capsys):
    for jit in JITS:
        gradient(jit)
    assert cli.main(["cache", "info"]) == 0
    out = capsys.readouterr().out
    assert f"folder used:                 {folder}" in out and "generated modules:           1" in out
    (folder / "mine.txt").write_text("not adjoint's")
    assert cli.main(["cache", "clear"]) == 0
    assert "removed" in capsys.readouterr().out
    assert written_into(folder) == ["mine.txt"] and os.listdir(folder / "__pycache__") == []
    assert np.allclose(gradient(True)[0], RIGHT)


def test_the_folder_keeps_under_its_size_bound_by_removing_what_was_used_least_recently(folder, monkeypatch):
    monkeypatch.setenv("ADJOINT_CACHE_MAX", "1MB")
    monkeypatch.setattr(cache, "_WRITTEN", [0, None])
    folder.mkdir(mode=0o700)
    now = time.time()
    for i in range(40):  # 40 entries of 100 kB, each used an hour ago or more, the last ones most recently
        for name in (f"adjoint_old{i}_{i:016x}.py", f"native_old{i}_{i:016x}_{0:016x}.so"):
            (folder / name).write_bytes(b"#" * 50_000)
            os.utime(folder / name, (now - 7200 + i, now - 7200 + i))
    assert np.allclose(gradient(True)[0], RIGHT)  # (writes: the first write of a process checks the size)
    found, _ = cache.entries(str(folder))
    assert sum(size for size, _, _ in found.values()) <= 2 ** 20
    kept = {n for n in written_into(folder) if "_old" in n}
    assert kept and all(f"old{i}_" not in n for n in kept for i in range(20))  # the oldest went first
    assert f"adjoint_old39_{39:016x}.py" in kept
    assert np.allclose(gradient(True)[0], RIGHT)


def test_a_file_in_the_folder_is_read_only_when_it_is_the_users_own_and_private(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"data")
    path.chmod(0o600)
    assert cache.read(str(path)) == b"data"
    path.chmod(0o620)
    assert cache.read(str(path)) is None
    os.symlink(path, tmp_path / "link")
    path.chmod(0o600)
    assert cache.read(str(tmp_path / "link")) is None


PROCESS = textwrap.dedent('''
    import sys, threading
    import numpy as np
    sys.path.insert(0, sys.argv[1])
    import adjoint, cache_kernel
    x = np.linspace(0.1, 1.0, 5)
    right = np.sin(x) + x * np.cos(x)
    results = []
    threads = [threading.Thread(target=lambda: results.append(adjoint.grad(cache_kernel.f, jit=False)(x)))
               for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2 and all(np.allclose(r, right) for r in results)
    print("ok")
''')


def test_eight_processes_on_a_cold_folder_agree_and_leave_no_stray_files(folder):
    env = dict(os.environ, ADJOINT_CACHE_DIR=str(folder))
    runs = [subprocess.Popen([sys.executable, "-c", PROCESS, str(folder.parent)], env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(8)]
    outs = [r.communicate() for r in runs]
    assert all(out.strip() == "ok" and not err for out, err in outs), outs
    assert not [n for n in os.listdir(folder) if n.endswith(".tmp")]
    assert len(list(folder.glob("adjoint_f_*.py"))) == 1
