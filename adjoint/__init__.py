"""adjoint: source-to-source automatic differentiation for Python and NumPy, compiled with Numba."""

__version__ = "0.1.0"

from .api import differentiate, grad, hessian, hvp, jacobian, jvp, source, value_and_grad, vjp  # noqa: E402
from .check import check_grad, numerical_jacobian  # noqa: E402
from .custom import custom_vjp  # noqa: E402
from .errors import AdjointError, ArgumentError, JitError, MemoryBudgetError, SourceError  # noqa: E402

__all__ = ["grad", "value_and_grad", "vjp", "jvp", "jacobian", "hessian", "hvp", "source", "differentiate", "check_grad", "numerical_jacobian", "custom_vjp", "AdjointError", "ArgumentError",
           "JitError", "MemoryBudgetError", "SourceError"]
