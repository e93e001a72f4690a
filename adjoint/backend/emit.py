"""Emit generated functions as a module's text, write it into the managed cache folder, and load it.

The module is one text for both paths: it imports NumPy, math and the runtime helpers it uses,
defines the user's module-level constants it reads, and names the objects bound into it when it
loads (custom rules, global arrays). Files are named by a hash of their text and the adjoint
version, so the same input always gives the same file, and Numba's `cache=True` finds its compiled
code there in later processes. A file read back is run only when its text hashes to its name
(`read_text`), and what runs is that text, not the file read again (`load`); where the cache folder
cannot take a module (adjoint/backend/cache.py), it runs from memory.
"""

import ast
import hashlib
import inspect
import json
import linecache
import math
import os
import re
import sys
import types

import numpy as np

from .. import __version__, runtime
from ..frontend.names import fingerprint, functions_read
from ..ir.build import MARK, clone
from . import cache

_MARK_LINE = re.compile(rf"^(\s*){MARK}\((['\"])(.*)\2(?:, heading=True)?\)$", re.M)


class _Signed(ast.NodeTransformer):
    """A negative number as `-` over a positive one: ast.unparse prints Constant(-1.5) bare, so
    `Constant(-1.5) ** 2` would read back as -(1.5 ** 2) and `Constant(-1).real` would not parse."""

    def visit_Constant(self, node):
        value = node.value
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.copysign(1, value) < 0:
            return ast.copy_location(ast.UnaryOp(ast.USub(), ast.Constant(-value)), node)
        return node


def text(node):
    """Python text of a generated node; parsing it again gives the same computation."""
    return ast.unparse(ast.fix_missing_locations(_Signed().visit(clone(node))))


def _unparse(node):
    return _MARK_LINE.sub(lambda m: f"{m.group(1)}# {m.group(3)}", text(node))


def module_text(functions, docstring, constants=None, externals=None):
    """The full text of a generated module holding `functions` (ast.FunctionDefs)."""
    body = "\n\n\n".join(_unparse(f) for f in functions)
    used = {n.id for f in functions for n in ast.walk(f) if isinstance(n, ast.Name)}
    lines = [f'"""{docstring}"""', ""]
    if "math" in used:
        lines.append("import math")
    lines.append("import numpy as np")
    helpers = sorted(h for h in runtime.EXPORTED if h in used)
    if helpers:
        lines.append(f"from adjoint.runtime import {', '.join(helpers)}")
    lines.append("")
    for name, value in sorted((constants or {}).items()):
        if name in used:
            lines.append(f"{name} = {_literal(value)}")
    bound = sorted(n for n in (externals or {}) if n in used)
    if bound:
        digest = hashlib.sha256("".join(_fingerprint(externals[n]) for n in bound).encode()).hexdigest()[:12]
        lines.append(f"# bound when this module loads: {', '.join(bound)} (fingerprint {digest})")
    return "\n".join(lines).rstrip() + "\n\n\n" + body + "\n"


def _literal(value):
    """Python text for a module-level constant's value, which evaluates to it on both paths (an
    infinity or a NaN as `float("inf")`: its repr, `inf`, is no name the module defines)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, tuple):
        return "(" + ", ".join(_literal(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, float) and not math.isfinite(value):
        return 'float("nan")' if math.isnan(value) else 'float("inf")' if value > 0 else 'float("-inf")'
    return repr(value)


def _fingerprint(obj):
    """Text that changes when a bound object changes, so a changed rule gets a new module. An array
    is passed to the generated function on each call (pipeline.compile_derivative): the text depends
    on its type only, not on the values it holds."""
    if isinstance(obj, np.ndarray):
        return f"array {obj.dtype} {obj.ndim}-d"
    # a function by the code that runs too: its file's text may be older or newer than its code
    code = repr(fingerprint(obj.__code__)) if isinstance(obj, types.FunctionType) else ""
    try:
        return inspect.getsource(obj) + code
    except (OSError, TypeError):
        return code or repr(obj)


_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the package


def _digest(files):
    """A digest of the contents of these files of the package (paths relative to it)."""
    h = hashlib.sha256()
    for name in files:
        with open(os.path.join(_HERE, name), "rb") as f:
            h.update(name.encode() + f.read())
    return h.hexdigest()


# changes whenever the helpers or their Numba side change, so cached compiled code is never stale
_RUNTIME = _digest(("runtime.py", os.path.join("backend", "jit.py")))
# changes whenever any of the compiler's own files changes: a text kept by `remember` is then never reused
_COMPILER = _digest(sorted(os.path.relpath(os.path.join(folder, f), _HERE)
                           for folder, _, names in os.walk(_HERE) for f in names if f.endswith(".py")))


def text_key(nf, externals, *more):
    """A digest of all that the stages after normalizing read to write a module's text: the normal
    form (with the user's lines it came from), the objects bound into the module (`externals`:
    custom rules as their fn, fwd and bwd functions), and `more` (the docstring, wrt, mode and
    options), the code of the functions read. No text in it holds an address, which changes from one process
    to the next."""
    h = hashlib.sha256(f"{__version__}\n{_COMPILER}\n".encode())
    for stmt in nf.body:
        h.update(ast.dump(stmt, include_attributes=True).encode())
    # the code of the functions it was read from (the text read is checked to be theirs: frontend.read)
    codes = sorted(repr(fingerprint(code)) for _, code in functions_read(None, nf.bindings))
    h.update(repr((nf.name, nf.params, nf.result, nf.aux, nf.aux_tree, sorted(nf.kinds.items()), nf.origins, sorted(nf.user_names.items()),
                   sorted((k, _literal(v)) for k, v in nf.constants.items()), sorted(nf.externals),
                   sorted((k, _fingerprint(v)) for k, v in externals.items()), codes, more)).encode())
    return h.hexdigest()[:32]


def remember(key, module, path, entry, has_loops, arrays):
    """Note in the cache folder that the text for `key` is the module `module` at `path` (not when the
    module runs from memory)."""
    note = cache.path(f"text_{key}.json")
    if note and not in_memory(path):
        cache.write(note, json.dumps({"key": key, "module": module, "entry": entry, "has_loops": has_loops,
                                      "arrays": list(arrays)}))


def recall(key, docstring):
    """(text, module name, path, entry, has_loops, arrays) for a key `remember` was given, or None,
    also when the key file or the module it names is damaged or is not what it says: not the text
    its name hashes, not of this docstring (function, file, line, mode, wrt) or with no function
    `entry` (then the caller writes both again)."""
    note_path = cache.path(f"text_{key}.json")
    data = note_path and cache.read(note_path)
    if not data:
        return None
    try:
        note = json.loads(data)
        module, entry, has_loops, arrays = note["module"], note["entry"], note["has_loops"], note["arrays"]
        if note["key"] != key or not isinstance(has_loops, bool) or not isinstance(arrays, list) \
                or not all(isinstance(a, str) and a.isidentifier() for a in [entry, *arrays]):
            return None
    except (ValueError, KeyError, TypeError):
        return None
    path = cache.path(f"{module}.py") if isinstance(module, str) and _MODULE.fullmatch(module) else None
    text = path and read_text(module, path)
    if text is None or not text.startswith(f'"""{docstring}"""\n') or not re.search(rf"^def {entry}\(", text, re.M):
        return None
    cache.touch(path)
    cache.touch(note_path)  # (both: the size bound removes what was used least recently)
    return text, module, path, entry, has_loops, tuple(arrays)


_MODULE = re.compile(r"adjoint_\w+_[0-9a-f]{16}")


def read_text(module, path):
    """The text of the generated module `module` at `path`, or None when the file is missing, not the
    user's own private file, or does not hash to the digest in its name (damaged). (What stops a file
    planted by someone else is the folder: only the user can write it, adjoint/backend/cache.py.)"""
    data = cache.read(path)
    try:
        text = data.decode() if data else None
    except UnicodeDecodeError:
        return None
    return text if text and module_name(text, "") == f"adjoint__{module[-16:]}" else None


def compiled_mark(module, kinds):
    """The file whose presence says Numba compiled `module` for arguments of these `kinds` (as text)
    on this machine before, so that its cache holds the code (api.Derivative writes and reads it);
    None when there is no cache folder."""
    digest = hashlib.sha256(kinds.encode()).hexdigest()[:16]
    return cache.path(f"{module}.{digest}.compiled")


def module_name(text, stem):
    digest = hashlib.sha256(f"{__version__}\n{_RUNTIME}\n{text}".encode()).hexdigest()[:16]
    return f"adjoint_{re.sub(r'[^0-9a-zA-Z_]', '_', stem)}_{digest}"


MEMORY = "<adjoint memory>"  # the folder of a module that runs from memory: no cache folder takes it


def write(text, stem):
    """Write the module into the cache folder (again, when the file there is not this text) and return
    (module name, path); the path is under MEMORY when the cache folder cannot take it."""
    name = module_name(text, stem)
    path = cache.path(name + ".py")
    if path is not None:
        if cache.read(path) == text.encode():
            cache.touch(path)
            return name, path
        if cache.write(path, text):
            return name, path
    path = f"{MEMORY}/{name}.py"
    linecache.cache[path] = (len(text), None, text.splitlines(True), path)  # (tracebacks show its lines)
    return name, path


def in_memory(path):
    return path.startswith(MEMORY)


def restore(path, text):
    """Write the module's file again if it went (or changed) since it was written (a size bound, or
    `adjoint cache clear`, in another process)."""
    if not in_memory(path) and cache.read(path) != text.encode():
        cache.write(path, text)


def load(name, path, text, externals=None, compiled=False):
    """A fresh module object running `text`, the module at `path`, with `externals` bound into it; the
    one Numba compiles (`compiled`) is another, whose `compiled` is True (optimize/elementwise.py). The
    text is the one checked (emit.read_text) or written, not the file read again."""
    suffix = "_jit" if compiled else ""
    module = types.ModuleType(name + suffix)
    module.__file__ = path
    module.__dict__.update(externals or {})
    sys.modules[name + suffix] = module
    exec(compile(text, path, "exec"), module.__dict__)
    if "compiled" in module.__dict__:
        module.compiled = compiled
    return module
