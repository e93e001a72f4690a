"""What the benchmarks' programs share (kernels.py, untuned_programs.py): the sizes they are made at and
the record of one program. Imports nothing of Numba: a benchmark's fresh process times what starting it costs."""

from dataclasses import dataclass

SIZES = ("tiny", "full")


@dataclass(frozen=True)
class Case:
    name: str
    fn: object     # the plain Python function
    make: object   # make(size) -> argument tuple, size in SIZES
    wrt: tuple     # argument positions that are differentiated
    kind: str      # "loop" or "vectorised"


def full(size):
    """Whether size is "full" (else "tiny"); any other size is refused."""
    if size not in SIZES:
        raise ValueError(f"size must be one of {SIZES}, not {size!r}")
    return size == "full"
