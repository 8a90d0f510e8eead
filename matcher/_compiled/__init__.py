"""Cython-compiled copies of the per-name modules, built by setup.py (never edit here).

This package holds only extension modules; matcher._impl imports them when the
compiled implementation runs. The sources are the modules one level up.
"""
