"""The cache folder: where it is, whether it can be trusted, and every read and write of it.

adjoint runs what it keeps there in later processes (generated modules, the key files that name
them, Numba's compiled code in `__pycache__`, native extension modules), so:

- The folder must be the user's own and writable by no one else. It is made 0700 and its files 0600.
  A folder that is another user's, or that others can write, is not used: a private folder of the
  user's own is used instead (`<tmp>/adjoint-<uid>`), with one warning that says why.
- Every file adjoint writes there is written whole through a temporary file in the same folder and
  `os.replace`, which replaces a symlink found at the path and never writes through it (Numba writes
  its own files the same way; jit.py makes them private after it).
- A file is read only when it is a regular file (not a symlink) that the user owns and no one else can
  write; what is in it is checked by its reader (emit: a generated text against the hash in its name).
- A folder that cannot be made or written (read-only, full, a path under a regular file) turns the
  cache off for the process, with one warning: generated code runs from memory, Numba compiles it
  again in each process, and no native module is built or loaded.
- The folder is kept under a size (ADJOINT_CACHE_MAX, default 512 MB) by removing the entries used
  least recently, checked when a process first writes and after each tenth of the bound it writes.

`adjoint cache info` and `adjoint cache clear` (cli.py) report on it and empty it.
"""

import errno
import os
import re
import shutil
import stat
import sys
import tempfile
import threading
import time
import warnings

DEFAULT_MAX = 512 * 2 ** 20
PRUNE_EVERY_S = 60  # a process's first write checks the size when no process checked it this recently
KEEP_RECENT_S = 600  # an entry used this recently is never removed to keep the size (another process may load it)
STALE_TMP_S = 3600  # a temporary file this old was left by a writer that died

_LOCK = threading.Lock()
_CHOSEN = {}  # the folder asked for -> (the folder used or None, why it is not the one asked for)
_WARNED = set()
_WRITTEN = [0, None]  # bytes written since this process last checked the size; the folder checked


def configured():
    """The folder asked for: ADJOINT_CACHE_DIR, else `$XDG_CACHE_HOME/adjoint` or `~/.cache/adjoint`."""
    return os.environ.get("ADJOINT_CACHE_DIR") or _default()


def _default():
    return os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
                        "adjoint")


def folder():
    """The cache folder to use, or None when there is none (generated code then runs from memory)."""
    want = configured()
    chosen = _CHOSEN.get(want)
    if chosen is None:
        with _LOCK:
            chosen = _CHOSEN.get(want)
            if chosen is None:
                chosen = _CHOSEN[want] = _choose(want)
    return chosen[0]


def status():
    """(the folder used or None, why it is not the one asked for, or None)."""
    folder()
    return _CHOSEN[configured()]


def _choose(want):
    problem, why = _check(want, follow=True)
    if problem is None:
        return want, None
    if problem == "foreign":  # another user's, or others can write it: a private folder of our own
        for other in dict.fromkeys((_default(), os.path.join(tempfile.gettempdir(), f"adjoint-{_uid()}"))):
            if other != want and _check(other, follow=False)[0] is None:
                warn(f"adjoint: not using the cache folder {want}: {why}; using {other} instead "
                      "(set ADJOINT_CACHE_DIR to a folder of your own that only you can write)")
                return other, why
    warn(f"adjoint: {why}: generated code runs from memory, Numba compiles it again in each process and "
          "no native module is built (set ADJOINT_CACHE_DIR to a writable folder of your own)")
    return None, why


def _uid():
    return os.getuid() if hasattr(os, "getuid") else 0


def _check(path, follow):
    """(None, None) when `path` is a folder we may use, made if missing, else ("foreign" or
    "unwritable", why). With follow=False, a symlink at `path` is not followed (a folder in the shared
    temporary folder, whose name anyone can take first)."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        st = os.stat(path) if follow else os.lstat(path)
    except OSError as e:
        return "unwritable", f"the cache folder {path} cannot be made ({e.strerror or e})"
    if not stat.S_ISDIR(st.st_mode):
        return "unwritable", f"the cache folder {path} is not a folder"
    if hasattr(os, "getuid"):
        if st.st_uid != _uid():
            return "foreign", f"it belongs to another user (uid {st.st_uid})"
        if st.st_mode & 0o022:
            return "foreign", f"others can write into it (mode {stat.filemode(st.st_mode)}; `chmod 700 {path}` makes it private)"
    if not os.access(path, os.W_OK | os.X_OK):
        return "unwritable", f"the cache folder {path} cannot be written (no permission, or a read-only file system)"
    numba_folder = os.path.join(path, "__pycache__")  # (Numba's compiled code: Numba reads it with pickle)
    try:
        os.mkdir(numba_folder, 0o700)
    except FileExistsError:
        pass
    except OSError as e:
        return "unwritable", f"the cache folder {path} cannot be written ({e.strerror or e})"
    if not owned(numba_folder, folder=True):
        return "foreign", f"{numba_folder} is not a folder of the user's own that only the user can write"
    return None, None


def owned(path, folder=False):
    """Whether `path` is a regular file (or, with folder, a folder), not a symlink, that the user owns
    and that no one else can write."""
    try:
        return _private(os.lstat(path), folder)
    except OSError:
        return False


def _private(st, folder=False):
    kind = stat.S_ISDIR(st.st_mode) if folder else stat.S_ISREG(st.st_mode)
    return kind and (not hasattr(os, "getuid") or st.st_uid == _uid() and not st.st_mode & 0o022)


def warn(message):
    """Warn once a process, at the first line outside adjoint that led here."""
    if message not in _WARNED:
        _WARNED.add(message)
        frame, level = sys._getframe(0), 1
        while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
            frame, level = frame.f_back, level + 1
        warnings.warn(message, stacklevel=level)


_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def path(name):
    """The path of file `name` in the cache folder, or None when there is no cache folder."""
    where = folder()
    return where and os.path.join(where, name)


def read(path):
    """The bytes of the file at `path`, or None when it is missing, not a regular file the user owns
    (a folder, a FIFO, a symlink), writable by others, or cannot be read."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        if not _private(os.fstat(fd)):
            return None
        with os.fdopen(os.dup(fd), "rb") as f:
            return f.read()
    except OSError:
        return None
    finally:
        os.close(fd)


def write(path, data):
    """Write the file at `path` (in the cache folder) whole, mode 0600, through a temporary file and
    os.replace: a reader never sees it half written and a symlink at `path` is replaced, not followed.
    Returns whether it was written. A folder that cannot take it (read-only, full) turns the cache off
    for this process, with one warning, and leaves no file behind."""
    if isinstance(data, str):
        data = data.encode()
    where = os.path.dirname(path)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=where, prefix=os.path.basename(path)[:80] + ".", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        try:
            os.replace(tmp, path)
        except OSError:
            if not os.path.isdir(path) or os.path.islink(path):
                raise
            shutil.rmtree(path)  # (a folder where a file of ours goes: damage)
            os.replace(tmp, path)
    except OSError as e:
        if tmp is not None:
            remove(tmp)
        unwritable(where, e)
        return False
    grew(where, len(data))
    return True


def unwritable(where, error):
    """After a write into `where` failed: no cache folder for the rest of this process, unless the
    folder was removed while we ran (it is made again on the next use)."""
    want = configured()
    with _LOCK:
        if error.errno == errno.ENOENT and not os.path.isdir(where):
            _CHOSEN.pop(want, None)
            return
        why = f"the cache folder {where} cannot be written ({error.strerror or error})"
        _CHOSEN[want] = None, why
    warn(f"adjoint: {why}: generated code runs from memory from now on, Numba compiles it again in each "
          "process and no native module is built (set ADJOINT_CACHE_DIR to a writable folder of your own)")


def touch(path):
    """Note that the entry at `path` was used now (the size bound removes what was used least recently)."""
    try:
        os.utime(path)
    except OSError:
        pass


def remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


# ---- the size bound ----

def limit():
    """ADJOINT_CACHE_MAX in bytes ("512MB", "2G", "100000"; 0: no bound)."""
    text = os.environ.get("ADJOINT_CACHE_MAX", "").strip()
    if not text:
        return DEFAULT_MAX
    m = re.fullmatch(r"(\d+(?:\.\d*)?)\s*([kmgt]?)i?b?", text.lower())
    if m is None:
        warn(f"adjoint: ADJOINT_CACHE_MAX={text!r} is not a size (say 512MB, 2G or a number of bytes): "
              f"using {DEFAULT_MAX >> 20} MB")
        return DEFAULT_MAX
    return int(float(m.group(1)) * 1024 ** "_kmgt".index(m.group(2) or "_"))


def grew(where, n):
    """Count `n` bytes written into the folder `where` (by adjoint, Numba or a native build); keep the
    size bound when this process first writes (unless some process checked it in the last
    PRUNE_EVERY_S) and after each tenth of the bound it writes."""
    bound = limit()
    first = _WRITTEN[1] != where
    _WRITTEN[0] += n
    if not bound or not first and _WRITTEN[0] < bound / 10:
        return
    _WRITTEN[:] = [0, where]
    stamp = os.path.join(where, "pruned")
    try:
        if first and time.time() - os.lstat(stamp).st_mtime < PRUNE_EVERY_S:
            return
    except OSError:
        pass
    try:
        os.close(os.open(stamp, os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600))
        os.utime(stamp)
    except OSError:
        return
    prune(where, bound)


# files of one generated module: its text, marks, Numba's files, native modules; a key file; a leftover
_ENTRY = re.compile(r"^(?:adjoint|native)_(\w*?_[0-9a-f]{16})(?=[._]|$)|^(text_[0-9a-f]+)\.json$")


def entries(where):
    """{entry: [bytes, last used, paths]} of the files adjoint keeps in the folder `where`, and
    [leftover temporary files]."""
    found, leftovers = {}, []
    for sub in (where, os.path.join(where, "__pycache__")):
        try:
            listing = list(os.scandir(sub))
        except OSError:
            continue
        for e in listing:
            if e.name.endswith(".tmp") or ".tmp." in e.name:
                leftovers.append(e.path)
                continue
            m = _ENTRY.match(e.name)
            if m is None:
                continue
            try:
                st = e.stat(follow_symlinks=False)
            except OSError:
                continue
            entry = found.setdefault(m.group(1) or m.group(2), [0, 0.0, []])
            entry[0] += st.st_size
            entry[1] = max(entry[1], st.st_mtime)
            entry[2].append(e.path)
    return found, leftovers


def prune(where, bound):
    """Remove the entries used least recently until the folder holds at most 3/4 of `bound` (never one
    used in the last KEEP_RECENT_S), and temporary files left by writers that died."""
    found, leftovers = entries(where)
    now = time.time()
    for p in leftovers:
        try:
            if now - os.lstat(p).st_mtime > STALE_TMP_S:
                os.remove(p)
        except OSError:
            pass
    total = sum(size for size, _, _ in found.values())
    if total <= bound:
        return
    for size, used, paths in sorted(found.values(), key=lambda e: e[1]):
        if total <= bound * 3 // 4 or now - used < KEEP_RECENT_S:
            break
        for p in paths:
            remove(p)
        total -= size


def info():
    """What `adjoint cache info` says: {name: value}."""
    used, why = status()
    report = {"folder asked for": configured(), "folder used": used or "none: generated code runs from memory"}
    if why:
        report["why not the one asked for"] = why
    bound = limit()
    report["size bound"] = f"{bound / 2 ** 20:.0f} MB (ADJOINT_CACHE_MAX)" if bound else "none (ADJOINT_CACHE_MAX=0)"
    if used:
        found, _ = entries(used)
        names = [os.path.basename(p) for _, _, paths in found.values() for p in paths]
        report["size"] = f"{sum(e[0] for e in found.values()) / 2 ** 20:.1f} MB"
        report["generated modules"] = sum(n.startswith("adjoint_") and n.endswith(".py") for n in names)
        report["key files"] = sum(n.startswith("text_") for n in names)
        report["numba files"] = sum(n.endswith((".nbi", ".nbc")) for n in names)
        report["native modules"] = sum(n.startswith("native_") and not n.endswith((".failed", ".damaged"))
                                       for n in names)
        report["failed native builds"] = sum(n.endswith(".failed") for n in names)
    return report


def clear():
    """Remove every file adjoint keeps in the cache folder (nothing else in it; folders of killed
    native builds are native.clear_leftovers's); returns how many."""
    used = folder()
    if not used:
        return 0
    found, leftovers = entries(used)
    paths = [p for _, _, ps in found.values() for p in ps] + leftovers
    paths += [os.path.join(used, n) for n in ("native.unavailable", "pruned", "demo_rosenbrock.py")]
    removed = 0
    for p in paths:
        removed += os.path.lexists(p)
        remove(p)
    return removed
