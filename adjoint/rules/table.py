"""Every derivative rule adjoint knows, one line each (see the package docstring for the format)."""

import inspect

import numpy as np

from .. import runtime
from . import Table

TABLE = Table()
rule, nondiff, makes, method, helper = TABLE.rule, TABLE.nondiff, TABLE.makes, TABLE.method, TABLE.helper
define = TABLE.define

# Python operators (the normalizer keeps them as operators; these rules are keyed by operator.*)
rule("operator.add", "a, b", "g", "g", broadcast=True)
rule("operator.sub", "a, b", "g", "-g", broadcast=True)
rule("operator.mul", "a, b", "g * b", "g * a", broadcast=True)
rule("operator.truediv", "a, b", "times(g, np.divide(1.0, b))", "times(g, -np.divide(out, b))", broadcast=True)
rule("operator.pow", "a, b", "times(g, b * pow_base(a, b) ** (b - 1.0))",
     "times(g, out * np.log(log_base(a, b)))", broadcast=True)
rule("operator.mod", "a, b", "g", "-g * np.floor_divide(a, b)", broadcast=True)
rule("operator.matmul", "a, b", "matmul_left(g, a, b)", "matmul_right(g, a, b)")
rule("operator.neg", "a", "-g")
rule("operator.pos", "a", "g")
nondiff("operator.floordiv", "operator.not_", "operator.lt", "operator.le", "operator.gt", "operator.ge",
        "operator.eq", "operator.ne", "operator.is_", "operator.is_not", "operator.contains", "operator.and_",
        "operator.or_", "operator.xor", "operator.invert")

# builtins
rule("builtins.abs", "x", "g * np.sign(x)")
rule("builtins.float", "x", "g")
rule("builtins.max", "a, b", "g * (0.5 * (a > b) + 0.5 * (a >= b))", "g * (0.5 * (a < b) + 0.5 * (a <= b))")
rule("builtins.min", "a, b", "g * (0.5 * (a < b) + 0.5 * (a <= b))", "g * (0.5 * (a > b) + 0.5 * (a >= b))")
nondiff("builtins.int", "builtins.len", "builtins.range", "builtins.bool", "builtins.round", "builtins.isinstance")

# math
rule("math.sin", "x", "g * math.cos(x)")
rule("math.cos", "x", "-g * math.sin(x)")
rule("math.tan", "x", "g * (1.0 + out * out)")
rule("math.exp", "x", "g * out")
rule("math.log", "x", "times(g, np.divide(1.0, x))")
rule("math.log2", "x", "times(g, np.divide(1.0, x * math.log(2.0)))")
rule("math.log10", "x", "times(g, np.divide(1.0, x * math.log(10.0)))")
rule("math.log1p", "x", "times(g, np.divide(1.0, 1.0 + x))")
rule("math.expm1", "x", "g * (out + 1.0)")
rule("math.sqrt", "x", "times(g, np.divide(0.5, out))")
rule("math.tanh", "x", "g * (1.0 - out * out)")
rule("math.sinh", "x", "g * math.cosh(x)")
rule("math.cosh", "x", "g * math.sinh(x)")
rule("math.asin", "x", "times(g, np.divide(1.0, math.sqrt(1.0 - x * x)))")
rule("math.acos", "x", "times(g, -np.divide(1.0, math.sqrt(1.0 - x * x)))")
rule("math.atan", "x", "g / (1.0 + x * x)")
rule("math.atan2", "y, x", "times(g, np.divide(x, x * x + y * y))", "times(g, -np.divide(y, x * x + y * y))")
rule("math.hypot", "x, y", "g * norm_slope(x, out)", "g * norm_slope(y, out)")
rule("math.pow", "x, y", "times(g, y * pow_base(x, y) ** (y - 1.0))",
     "times(g, out * np.log(log_base(x, y)))")
rule("math.fabs", "x", "g * np.sign(x)")
rule("math.erf", "x", "g * 1.1283791670955126 * math.exp(-x * x)")
nondiff("math.floor", "math.ceil", "math.trunc", "math.isnan", "math.isinf", "math.isfinite")

# NumPy elementwise
rule("numpy.sin", "x", "g * np.cos(x)")
rule("numpy.cos", "x", "-g * np.sin(x)")
rule("numpy.tan", "x", "g * (1.0 + out * out)")
rule("numpy.exp", "x", "g * out")
rule("numpy.log", "x", "times(g, np.divide(1.0, x))")
rule("numpy.log2", "x", "times(g, np.divide(1.0, x * np.log(2.0)))")
rule("numpy.log10", "x", "times(g, np.divide(1.0, x * np.log(10.0)))")
rule("numpy.log1p", "x", "times(g, np.divide(1.0, 1.0 + x))")
rule("numpy.expm1", "x", "g * (out + 1.0)")
rule("numpy.sqrt", "x", "times(g, np.divide(0.5, out))")
rule("numpy.tanh", "x", "g * (1.0 - out * out)")
rule("numpy.sinh", "x", "g * np.cosh(x)")
rule("numpy.cosh", "x", "g * np.sinh(x)")
rule("numpy.arcsin", "x", "times(g, np.divide(1.0, np.sqrt(1.0 - x * x)))")
rule("numpy.arccos", "x", "times(g, -np.divide(1.0, np.sqrt(1.0 - x * x)))")
rule("numpy.arctan", "x", "g / (1.0 + x * x)")
rule("numpy.arcsinh", "x", "times(g, np.divide(1.0, np.sqrt(x * x + 1.0)))")
rule("numpy.arccosh", "x", "times(g, np.divide(1.0, np.sqrt(x * x - 1.0)))")
rule("numpy.arctanh", "x", "times(g, np.divide(1.0, 1.0 - x * x))")
rule("numpy.cbrt", "x", "times(g, np.divide(1.0, 3.0 * out * out))")
rule("numpy.exp2", "x", "0.6931471805599453 * g * out")
rule("numpy.deg2rad", "x", "0.017453292519943295 * g")
rule("numpy.rad2deg", "x", "57.29577951308232 * g")
rule("numpy.fabs", "x", "g * np.sign(x)")
rule("numpy.sinc", "x", "g * sinc_slope(x)", tangent="elementwise")
rule("numpy.abs", "x", "g * np.sign(x)")
rule("numpy.square", "x", "2.0 * g * x")
rule("numpy.reciprocal", "x", "times(g, -out * out)")
rule("numpy.negative", "x", "-g")
rule("numpy.add", "x1, x2", "g", "g", broadcast=True)
rule("numpy.subtract", "x1, x2", "g", "-g", broadcast=True)
rule("numpy.multiply", "x1, x2", "g * x2", "g * x1", broadcast=True)
rule("numpy.divide", "x1, x2", "times(g, np.divide(1.0, x2))", "times(g, -np.divide(out, x2))", broadcast=True)
rule("numpy.power", "x1, x2", "times(g, x2 * pow_base(x1, x2) ** (x2 - 1.0))",
     "times(g, out * np.log(log_base(x1, x2)))",
     broadcast=True)
rule("numpy.arctan2", "x1, x2", "times(g, np.divide(x2, x1 * x1 + x2 * x2))",
     "times(g, -np.divide(x1, x1 * x1 + x2 * x2))", broadcast=True)
rule("numpy.hypot", "x1, x2", "g * norm_slope(x1, out)", "g * norm_slope(x2, out)", broadcast=True)
rule("numpy.maximum", "x1, x2", "g * (0.5 * (x1 > x2) + 0.5 * (x1 >= x2))",
     "g * (0.5 * (x1 < x2) + 0.5 * (x1 <= x2))", broadcast=True)
rule("numpy.minimum", "x1, x2", "g * (0.5 * (x1 < x2) + 0.5 * (x1 <= x2))",
     "g * (0.5 * (x1 > x2) + 0.5 * (x1 >= x2))", broadcast=True)
rule("numpy.logaddexp", "x1, x2", "g * np.exp(x1 - out)", "g * np.exp(x2 - out)", broadcast=True)
rule("numpy.where", "condition, x, y", None, "np.where(condition, g, 0.0)", "np.where(condition, 0.0, g)",
     broadcast=True,
     selects=("condition",))
rule("numpy.clip", "a, a_min, a_max", "g * (0.5 * ((a > a_min) & (a < a_max)) + 0.5 * ((a >= a_min) & (a <= a_max)))",
     "g * (0.5 * (a < a_min) + 0.5 * (a <= a_min))", "g * (0.5 * (a > a_max) + 0.5 * (a >= a_max))", broadcast=True)

# `1 / (1 + np.exp(-x))`, which the normalizer spots (its adjoint reads only its result)
rule("adjoint.runtime.logistic", "x", "g * out * (1.0 - out)", tangent="elementwise")

# NumPy reductions and linear algebra
rule("numpy.sum", "a, axis=None", "unsum(g, a, axis)", None)
rule("numpy.mean", "a, axis=None", "unmean(g, a, axis)", None)
rule("numpy.var", "a, axis=None, ddof=0", "unvar(g, a, axis, ddof)", None, None)
rule("numpy.std", "a, axis=None, ddof=0", "unstd(g, a, out, axis, ddof)", None, None)
rule("numpy.max", "a, axis=None", "unmax(g, a, out, axis)", None)
rule("numpy.min", "a, axis=None", "unmax(g, a, out, axis)", None)
rule("numpy.amax", "a, axis=None", "unmax(g, a, out, axis)", None)
rule("numpy.amin", "a, axis=None", "unmax(g, a, out, axis)", None)
rule("numpy.prod", "a, axis=None", "unprod(g, a, axis)", None)
rule("numpy.cumsum", "a, axis=None", "uncumsum(g, a, axis)", None)
rule("adjoint.runtime.diff", "a", "undiff(g, a)")
rule("numpy.dot", "a, b", "dot_left(g, a, b)", "dot_right(g, a, b)")
rule("numpy.matmul", "x1, x2", "matmul_left(g, x1, x2)", "matmul_right(g, x1, x2)")
rule("numpy.outer", "a, b", "outer_left(g, a, b)", "outer_right(g, a, b)")
rule("adjoint.runtime.trace", "a, offset=0", "untrace(g, a, offset)", None, result="trace")
rule("adjoint.runtime.norm", "x", "g * norm_slope(x, out)", tangent="np.sum(norm_slope(x, out) * x_dot)",
     result="number")
rule("adjoint.runtime.norm_axis", "x, axis", "unnorm(g, x, out, axis)", None,
     tangent="reduce_tangent(unnorm(unit(out), x, out, axis), x_dot, axis)", result="reduce")

# NumPy's linear algebra (runtime.py's helpers say where a derivative is undefined and what happens there)
rule("numpy.linalg.inv", "a", "-(mT(out) @ g @ mT(out))", tangent="-(out @ a_dot @ out)", result="first")
rule("numpy.linalg.det", "a", "det_adjoint(g, a, out)", tangent="det_tangent(a, a_dot, out)", result="drop2")
rule("adjoint.runtime.logabsdet", "a", "det_adjoint(g, a, 1.0)", tangent="det_tangent(a, a_dot, 1.0)",
     result="drop2")
rule("numpy.linalg.solve", "a, b", "solve_adjoint(g, a, b, out)", "solve_b_adjoint(g, a, b)",
     tangent="solve_tangent(a, b, out, a_dot, b_dot)", result="solve")
rule("numpy.linalg.cholesky", "a", "cholesky_adjoint(g, out)", tangent="cholesky_tangent(out, a_dot)",
     result="first")
rule("adjoint.runtime.eigh_values", "a", "eigh_values_adjoint(g, a)", tangent="eigh_values_tangent(a, a_dot)",
     result="drop1")
rule("adjoint.runtime.eigh_vectors", "a", "eigh_vectors_adjoint(g, a)", tangent="eigh_vectors_tangent(a, a_dot)",
     result="first")
rule("adjoint.runtime.eigh_values_upper", "a", "eigh_values_upper_adjoint(g, a)",
     tangent="eigh_values_upper_tangent(a, a_dot)", result="drop1")
rule("adjoint.runtime.eigh_vectors_upper", "a", "eigh_vectors_upper_adjoint(g, a)",
     tangent="eigh_vectors_upper_tangent(a, a_dot)", result="first")
rule("adjoint.runtime.svd_s", "a", "svd_s_adjoint(g, a)", tangent="svd_s_tangent(a, a_dot)", result="drop1")
rule("adjoint.runtime.svd_u", "a, full=True", "svd_u_adjoint(g, a, full)", None,
     tangent="svd_u_tangent(a, a_dot, full)", result="first")
rule("adjoint.runtime.svd_vh", "a, full=True", "svd_vh_adjoint(g, a, full)", None,
     tangent="svd_vh_tangent(a, a_dot, full)", result="first")
rule("adjoint.runtime.qr_q", "a, complete=False", "qr_q_adjoint(g, a)", None, tangent="qr_q_tangent(a, a_dot)",
     result="first")
rule("adjoint.runtime.qr_r", "a, complete=False", "qr_r_adjoint(g, a)", None, tangent="qr_r_tangent(a, a_dot)",
     result="first")
rule("adjoint.runtime.full_rank", "s, cutoff=1e-15", "g", None, tangent="elementwise", result="first_or_number")
nondiff("adjoint.runtime.det_sign", "numpy.linalg.matrix_rank", "numpy.int64", "numpy.int32")
rule("adjoint.runtime.section", "a, start, stop, axis=0", "unsection(g, a, start, axis)", None, None, None,
     tangent="linear", result="first", view=True)
for _path in ("numpy.linalg.slogdet", "numpy.linalg.eigh", "numpy.linalg.eigvalsh", "numpy.linalg.svd",
              "numpy.linalg.pinv", "numpy.linalg.qr", "numpy.linalg.lstsq", "numpy.trace", "numpy.diagonal",
              "numpy.pad", "numpy.atleast_1d", "numpy.atleast_2d", "numpy.atleast_3d", "numpy.flip", "numpy.fliplr",
              "numpy.flipud", "numpy.rot90", "numpy.median", "numpy.cumprod", "numpy.append", "numpy.diff",
              "numpy.degrees", "numpy.radians", "numpy.rollaxis", "numpy.nan_to_num", "numpy.split",
              "numpy.array_split", "numpy.hsplit", "numpy.vsplit", "numpy.dsplit", "numpy.partition", "numpy.linspace"):
    define(_path)

# SciPy's special functions: runtime helpers (SciPy's ufuncs in Python, math.* entry by entry under Numba)
rule("adjoint.runtime.erf", "x", "g * 1.1283791670955126 * np.exp(-x * x)", tangent="elementwise", result="join")
rule("adjoint.runtime.erfc", "x", "g * -1.1283791670955126 * np.exp(-x * x)", tangent="elementwise", result="join")
rule("adjoint.runtime.gammaln", "x", "g * digamma(x)", tangent="elementwise", result="join")
rule("adjoint.runtime.digamma", "x", "g * trigamma(x)", tangent="elementwise", result="join")
rule("adjoint.runtime.trigamma", "x", "g * tetragamma(x)", tangent="elementwise", result="join")
rule("adjoint.runtime.betaln", "a, b", "g * (digamma(a) - digamma(a + b))", "g * (digamma(b) - digamma(a + b))",
     broadcast=True)
rule("adjoint.runtime.erfinv", "x", "g * 0.886226925452758 * np.exp(out * out)", tangent="elementwise", result="join")
# (the incomplete gamma and beta functions' derivatives in their parameters a, b are not written: refused)
rule("adjoint.runtime.gammainc", "a, x", None, "g * np.exp((a - 1.0) * np.log(x) - x - gammaln(a))",
     broadcast=True)
rule("adjoint.runtime.gammaincc", "a, x", None, "-g * np.exp((a - 1.0) * np.log(x) - x - gammaln(a))",
     broadcast=True)
rule("adjoint.runtime.betainc", "a, b, x", None, None,
     "g * np.exp((a - 1.0) * np.log(x) + (b - 1.0) * np.log1p(-x) - gammaln(a) - gammaln(b) + gammaln(a + b))",
     broadcast=True)
rule("adjoint.runtime.bessel", "kind, v, x", None, None, "g * bessel_slope(kind, v, x)", broadcast=True)
nondiff("adjoint.runtime.gammasgn")

# NumPy and SciPy functions that rules/defined.py writes with the primitives above (inlined where called)
for _path in ("numpy.logaddexp2", "numpy.fmax", "numpy.fmin", "numpy.mod", "numpy.fmod", "numpy.copysign",
              "numpy.float_power", "numpy.positive", "numpy.real", "numpy.real_if_close", "numpy.conjugate",
              "numpy.ptp", "numpy.nansum", "numpy.nanmean", "numpy.average", "numpy.cov", "numpy.corrcoef",
              "numpy.vdot", "numpy.inner", "numpy.kron", "numpy.cross", "numpy.interp", "numpy.select",
              "numpy.gradient", "numpy.polyval", "numpy.linalg.matrix_power", "numpy.linalg.norm",
              "scipy.special.expit", "scipy.special.logit", "scipy.special.xlogy", "scipy.special.xlog1py",
              "scipy.special.logsumexp", "scipy.special.softmax", "scipy.special.log_softmax", "scipy.special.erf",
              "scipy.special.erfc", "scipy.special.gammaln", "scipy.special.psi", "scipy.special.ndtr",
              "scipy.special.ndtri", "scipy.special.erfinv", "scipy.special.erfcinv", "scipy.special.gamma",
              "scipy.special.rgamma", "scipy.special.beta", "scipy.special.betaln", "scipy.special.polygamma",
              "scipy.special.multigammaln", "scipy.special.gammainc", "scipy.special.gammaincc",
              "scipy.special.betainc", "scipy.special.j0", "scipy.special.j1", "scipy.special.y0", "scipy.special.y1",
              "scipy.special.i0", "scipy.special.i1", "scipy.special.jv", "scipy.special.yn", "scipy.special.yv",
              "scipy.special.iv", "scipy.special.ive", "scipy.special.gammasgn"):
    define(_path)
define("scipy.special.jn", "jv")
for _path in ("scipy.linalg.solve_triangular", "scipy.linalg.cho_factor", "scipy.linalg.cho_solve"):
    define(_path)
if hasattr(np, "row_stack"):  # (gone from NumPy 2.5 on)
    define("numpy.row_stack")
for _name in ("pdf", "logpdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf"):
    define(f"scipy.stats.norm.{_name}", f"norm_{_name}", once_imported="scipy.stats")
for _dist, _names in (("t", ("pdf", "logpdf", "cdf", "logcdf")), ("chi2", ("pdf", "logpdf", "cdf")),
                      ("gamma", ("pdf", "logpdf", "cdf")), ("beta", ("pdf", "logpdf", "cdf")),
                      ("poisson", ("pmf", "logpmf", "cdf")), ("dirichlet", ("pdf", "logpdf")),
                      ("multivariate_normal", ("pdf", "logpdf", "entropy"))):
    for _name in _names:
        define(f"scipy.stats.{_dist}.{_name}", f"{_dist}_{_name}", once_imported="scipy.stats")

# NumPy shapes and copies
rule("numpy.reshape", "a, shape", "reshape_like(g, a)", None, view=True)
rule("numpy.ravel", "a", "reshape_like(g, a)", view=True)
rule("numpy.transpose", "a, axes=None", "untranspose(g, axes)", None, view=True)
rule("numpy.swapaxes", "a, axis1, axis2", "np.swapaxes(g, axis1, axis2)", None, None, view=True, result="first")
rule("numpy.moveaxis", "a, source, destination", "np.moveaxis(g, destination, source)", None, None, view=True,
     result="first")
rule("numpy.squeeze", "a, axis=None", "reshape_like(g, a)", None, view=True)
rule("numpy.broadcast_to", "array, shape", "unbroadcast(g, array)", None, view=True, result="reshape")
rule("numpy.repeat", "a, repeats, axis=None", "unrepeat(g, a, repeats, axis)", None, None, result="flat_or_first")
rule("numpy.tile", "A, reps", "untile(g, A, reps)", None)
rule("numpy.roll", "a, shift, axis=None", "unroll(g, shift, axis)", None, None, result="first")
rule("numpy.diag", "v, k=0", "undiag(g, v, k)", None, view=True, result="diag")
rule("adjoint.runtime.diagonal", "a, offset=0", "undiagonal(g, a, offset)", None, view=True, result="drop1")
rule("numpy.tril", "m, k=0", "np.tril(g, k)", None, result="first")
rule("numpy.triu", "m, k=0", "np.triu(g, k)", None, result="first")
rule("numpy.take", "a, indices, axis=None", "untake(g, a, indices, axis)", None, None)
rule("numpy.take_along_axis", "arr, indices, axis", "untake_along(g, arr, indices, axis)", None, None,
     result="first")
rule("numpy.sort", "a, axis=-1", "unsort(g, a, axis)", None, tangent="sort_tangent(a, a_dot, axis)",
     result="flat_or_first")
rule("adjoint.runtime.pad", "array, pad_width, constant_values=0.0", "unpad(g, array, pad_width)", None,
     "np.sum(g) - np.sum(unpad(g, array, pad_width))",
     tangent="pad(array_dot + 0.0 * array, pad_width, constant_values_dot)")
rule("numpy.expand_dims", "a, axis", "reshape_like(g, a)", None, view=True)
rule("numpy.copy", "a", "g")
rule("numpy.array", "object, dtype=None", "g", None)
rule("numpy.asarray", "a, dtype=None", "g", None, view=True)
rule("numpy.float64", "x", "g")
rule("numpy.full", "shape, fill_value, dtype=None", None, "unbroadcast(g, fill_value)", None)
rule("numpy.concatenate", "arrays, axis=0", "concat_part(g, offset, part, axis)", None, sequence=True)
rule("numpy.stack", "arrays, axis=0", "stack_part(g, k, axis)", None, sequence=True)
rule("adjoint.runtime.numbers", "items", "stack_part(g, k)", sequence=True, tangent="linear")
rule("adjoint.runtime.enlarged", "rows, item, size", "leading(g, rows)", None, None,
     tangent="enlarged(rows_dot, item, size)", selects=("item",))  # (item gives the rows' shape only)

# NumPy functions whose result does not vary where it is differentiable: constants to the derivative
nondiff("numpy.zeros_like", "numpy.ones_like", "numpy.empty_like", "numpy.sign", "numpy.floor",
        "numpy.ceil", "numpy.round", "numpy.rint", "numpy.argmax", "numpy.argmin", "numpy.argsort",
        "numpy.shape", "numpy.size", "numpy.isnan", "numpy.isfinite", "numpy.isinf", "numpy.floor_divide",
        "numpy.trunc", "numpy.fix", "numpy.signbit", "numpy.heaviside", "numpy.logical_and", "numpy.logical_or",
        "numpy.logical_not", "numpy.logical_xor", "numpy.greater", "numpy.greater_equal", "numpy.less",
        "numpy.less_equal", "numpy.equal", "numpy.not_equal", "numpy.count_nonzero", "numpy.searchsorted",
        "numpy.digitize", "numpy.isclose", "numpy.allclose", "numpy.array_equal", "numpy.any", "numpy.all",
        "numpy.ndim", "numpy.iscomplex", "numpy.isreal", "numpy.iscomplexobj", "numpy.isrealobj")
# NumPy functions that make arrays from sizes, bounds and fill values: no derivative flows through them
makes("numpy.zeros", "numpy.ones", "numpy.empty", "numpy.eye", "numpy.identity", "numpy.arange",
      "numpy.tri", "numpy.random.rand", "numpy.random.randn", "numpy.random.random", "numpy.random.normal",
      "numpy.random.uniform", "numpy.random.randint", "numpy.random.standard_normal", "numpy.random.permutation",
      "numpy.random.choice", "numpy.random.seed", "numpy.random.RandomState", "numpy.random.default_rng")
# the sampling methods of np.random.RandomState and np.random.Generator objects (made in the function, or
# a closure's or the module's): values to the derivative, drawn once in the forward sweep (the tape keeps them)
makes(".rand", ".randn", ".randint", ".random_sample", ".standard_normal", ".normal", ".uniform", ".random",
      ".integers", ".choice", ".permutation", ".exponential", ".standard_exponential", ".gamma", ".standard_gamma",
      ".beta", ".poisson", ".binomial", ".multinomial", ".lognormal", ".laplace", ".multivariate_normal",
      ".dirichlet", ".standard_t", ".chisquare")

# Forward mode: how the tangent of each rule that is not elementwise is formed
for _path in ("numpy.swapaxes", "numpy.moveaxis", "numpy.squeeze", "numpy.broadcast_to", "numpy.repeat", "numpy.tile",
              "numpy.roll", "numpy.diag", "adjoint.runtime.diagonal", "numpy.tril", "numpy.triu", "numpy.take",
              "numpy.take_along_axis"):
    TABLE.tangent(_path, "linear")
for _path in ("numpy.sum", "numpy.mean", "numpy.cumsum", "adjoint.runtime.diff", "adjoint.runtime.trace",
              "numpy.reshape",
              "numpy.ravel", "numpy.transpose", "numpy.expand_dims", "numpy.copy", "numpy.array", "numpy.asarray",
              "numpy.float64", "numpy.full", "numpy.concatenate", "numpy.stack"):
    TABLE.tangent(_path, "linear")
for _path in ("operator.matmul", "numpy.dot", "numpy.matmul", "numpy.outer"):
    TABLE.tangent(_path, "bilinear")
TABLE.tangent("numpy.var", "reduce_tangent(unvar(unit(out), a, axis, ddof), a_dot, axis)")
TABLE.tangent("numpy.std", "reduce_tangent(unstd(unit(out), a, out, axis, ddof), a_dot, axis)")
for _path in ("numpy.max", "numpy.min", "numpy.amax", "numpy.amin"):
    TABLE.tangent(_path, "reduce_tangent(unmax(unit(out), a, out, axis), a_dot, axis)")
TABLE.tangent("numpy.prod", "reduce_tangent(unprod(unit(out), a, axis), a_dot, axis)")

# ndarray methods, spelled as methods in generated code
for _name in ("sum", "mean", "var", "std", "max", "min", "prod", "cumsum", "dot", "copy", "ravel", "transpose"):
    method(_name, f"numpy.{_name}")
method("reshape", "numpy.reshape")
method("flatten", None, "a", "reshape_like(g, a)", tangent="linear")
method("astype", None, "a, dtype", "g", None, tangent="linear")
method("T", None, "a", "np.transpose(g)", view=True, tangent="linear")  # the .T attribute

# The runtime helpers that generated adjoints call, differentiated by forward mode over an adjoint
# (adjoint.hessian, grad of grad). Parameters that only give a shape, an offset or a mask of ties
# carry no derivative; `s` is the standard deviation the primal computed.
for _name in ("unbroadcast", "reshape_like", "undiff"):
    helper(_name, "g, a", "g", "linear")
helper("untrace", "g, a, offset=0", "g", "linear")
helper("summed_to", "g, shape", "g", "linear")
helper("unsum_to", "g, shape, axis", "g", "linear")
helper("sum_axis", "a, axis", "a", "linear")
helper("mean_axis", "a, axis", "a", "linear")
for _name in ("max_axis", "min_axis"):
    helper(_name, "a, axis", "a", "reduce_tangent(unmax(unit(out), a, out, axis), a_dot, axis)")
helper("var_axis", "a, axis, ddof", "a", "reduce_tangent(unvar(unit(out), a, axis, ddof), a_dot, axis)")
helper("std_axis", "a, axis, ddof", "a", "reduce_tangent(unstd(unit(out), a, out, axis, ddof), a_dot, axis)")
helper("prod_axis", "a, axis", "a", "reduce_tangent(unprod(unit(out), a, axis), a_dot, axis)")
helper("sort_axis", "a, axis", "a", "sort_tangent(a, a_dot, axis)")
helper("inv_stacked", "a", "a", "-(out @ a_dot @ out)")
helper("matmul_stacked", "a, b", "a, b", "bilinear")
for _name in ("unsum", "unmean", "uncumsum"):
    helper(_name, "g, a, axis=None", "g", "linear")
helper("unmax", "g, a, s, axis=None", "g", "linear")
helper("unmax_axis", "g, a, s, axis", "g", "linear")
helper("concat_part", "g, offset, part, axis=0", "g", "linear")
helper("stack_part", "g, k, axis=0", "g", "linear")
helper("leading", "g, rows", "g", "linear")
helper("unvar", "g, a, axis=None, ddof=0", "g, a", "bilinear")
helper("unstd", "g, a, s, axis=None, ddof=0", "g, a, s",
       "unstd(g_dot, a, s, axis, ddof) + unstd(g, a_dot, s, axis, ddof)"
       " - unstd(g * np.divide(s_dot, s), a, s, axis, ddof)")
helper("unprod", "g, a, axis=None", "g, a", None)
helper("unnorm", "g, x, r, axis", "g, x, r", None)
helper("mT", "a", "a", "linear")
def _params(name):
    """A runtime helper's parameters, as the text `helper` takes."""
    return ", ".join(map(str, inspect.signature(getattr(runtime, name)).parameters.values()))


for _name in ("unsort", "unrepeat", "untile", "untake", "untake_along", "unroll", "undiag", "undiagonal", "unpad",
              "unsection", "untranspose"):  # (linear in g; the other parameters give shapes,
    # indices or an order, constant where the primal is differentiable)
    helper(_name, _params(_name), "g", "linear")
for _name in ("det_adjoint", "solve_adjoint", "solve_b_adjoint", "cholesky_adjoint", "eigh_values_adjoint",
              "eigh_vectors_adjoint", "eigh_values_upper_adjoint", "eigh_vectors_upper_adjoint",
              "svd_s_adjoint", "svd_u_adjoint", "svd_vh_adjoint", "qr_q_adjoint",
              "qr_r_adjoint"):  # (no second derivatives
    # through these yet: forward mode refuses them wherever any of their arguments carries a tangent)
    helper(_name, _params(_name), ", ".join(p for p in ("g", "a", "out") if p in _params(_name).split(", ")), None)
for _name in ("matmul_left", "dot_left", "outer_left"):
    helper(_name, "g, a, b", "g, b", "bilinear")
for _name in ("matmul_right", "dot_right", "outer_right"):
    helper(_name, "g, a, b", "g, a", "bilinear")
helper("pow_base", "a, b", "a", "a_dot * ((a != 0) | (b != 0))")  # (b only chooses where the base is 1)
helper("log_base", "a, b", "a", "a_dot * ((a != 0) | (b <= 0))")
helper("times", "g, d", "g, d", "bilinear")
helper("sinc_slope", "x", "x", "x_dot * sinc_curve(x)")
helper("norm_slope", "x, r", "x, r", "norm_slope(x_dot, r) - norm_slope(x, r) * norm_slope(r_dot, r)")
helper("saved", "element", "element", "linear")
helper("restore", "tape, value", "tape, value", "linear")
helper("add_into", "view, g", "view, g", "linear")
helper("add_at", "a, index, g", "a, g", "linear")
nondiff("adjoint.runtime.zeros_like", "adjoint.runtime.trip_count", "adjoint.runtime.kept_writes",
        "adjoint.runtime.rows_of", "adjoint.runtime.fits", "adjoint.runtime.argsort_axis",
        "adjoint.runtime.partition_order")

# the kind of each result (see the package docstring); elementwise NumPy functions and math.* have theirs
results = TABLE.results
results("number", "len", "int", "float", "round")
results("join", "abs", "min", "max")
results("reduce", "np.sum", "np.mean", "np.max", "np.min", "np.amax", "np.amin", "np.prod", "np.var", "np.std",
        ".sum", ".mean", ".max", ".min", ".prod", ".var", ".std")
results("cumsum", "np.cumsum", ".cumsum")
results("shape", "np.zeros", "np.ones", "np.empty", "np.full")
results("first", "np.zeros_like", "np.ones_like", "np.empty_like", "np.copy", "np.asarray", ".copy", "np.transpose",
        ".transpose")
results("array", "np.array")
results("first_or_number", ".astype", "np.float64", "logistic", ".T", "diff")
results("trace", "trace")
results("matmul", "np.dot", "np.matmul", ".dot")
results("matrix", "np.outer", "np.eye")
results("rows", "rows_of")
results("first", "enlarged")
results("vector", "np.arange", "np.linspace", ".ravel", ".flatten", "np.ravel", "numbers")
results("reshape", "np.reshape", ".reshape")
results("expand", "np.expand_dims")
TABLE.check_tangents()
