"""The normal form from the user's code: normalizer.py (the entry and the statements), assignments.py,
control.py, expressions.py, calls.py (one concern each), syntax.py (what they share), structure.py
(jumps made to end their statement lists)."""
