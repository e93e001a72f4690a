"""The optimisation passes over a generated function, each `pass(fdef, plan) -> fdef` (plan: the
reverse transform's TapePlan, None in forward mode), in the order pipeline.transform runs them.
Each pass keeps what the code computes; `optimize=False` runs none of them.
"""

from .chains import shorter_chains
from .copies import without_copies
from .elementwise import fuse_elementwise
from .fusion import fuse_loops
from .in_place import accumulate_in_place, first_contributions
from .order import in_forward_order
from .simplify import simplify
from .stacks import stack_tapes
from .strength import accumulate_in_scalars, outer_updates, share_divisions, substitute_single_uses


def simplified(fdef, plan):
    return simplify(fdef)


def fused(fdef, plan):
    return simplify(fuse_loops(fdef))


def single_uses(fdef, plan):
    return simplify(substitute_single_uses(fdef, plan.adjoints))


def accumulated_in_place(fdef, plan):
    return accumulate_in_place(fdef, {v for v in plan.adjoints if (plan.kinds.get(v) or 0) >= 1})


def shared_divisions(fdef, plan):
    return share_divisions(fdef, plan.adjoints, plan.kinds)


def scalar_accumulation(fdef, plan):
    return accumulate_in_scalars(fdef, plan.adjoints, plan.kinds)


def chains(fdef, plan):
    return simplify(shorter_chains(fdef, plan.adjoints, plan.kinds, plan.active | plan.adjoints))


def outer(fdef, plan):
    return outer_updates(fdef, plan.kinds)


def turned(fdef, plan):
    return in_forward_order(fdef, plan.kinds)


def stacked(fdef, plan):
    return stack_tapes(fdef)


def accumulated_in_place_again(fdef, plan):
    # once the copies are out (`u0_bar = u_bar` at the end no longer shares u_bar's buffer)
    return accumulated_in_place(first_contributions(without_copies(fdef), plan.kinds), plan)


def elementwise_loops(fdef, plan):
    return fuse_elementwise(fdef, plan.kinds, plan.active | plan.adjoints)


def copies_out(fdef, plan):
    return without_copies(fdef)


# the adjoint once its tapes are placed (reverse and hvp modes)
ADJOINT = (simplified, fused, single_uses, accumulated_in_place, shared_divisions, scalar_accumulation)
REVERSE = (chains, outer, turned, stacked, accumulated_in_place_again, elementwise_loops)  # reverse mode's own: the code that runs (hvp differentiates the adjoint before them)
TANGENT = (simplified,)  # forward mode's code, and hvp's forward mode over the adjoint
FINAL = (copies_out,)  # every mode, last


def run(passes, fdef, plan):
    for each in passes:
        fdef = each(fdef, plan)
    return fdef
