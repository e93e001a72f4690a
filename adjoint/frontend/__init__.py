"""Reading the user's function: source.py (its source and syntax tree, checked to be the code that
runs), subset.py (the Python adjoint takes), names.py (what its names refer to)."""
