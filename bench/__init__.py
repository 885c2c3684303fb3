"""Benches: each a `python -m bench.NAME` command that prints what it measured.

Importing the package sets OpenMP's waiting as main.py does (model.openmp), before any bench
imports torch, so a bench times what the app and `python main.py COMMAND` run.
"""

from model.openmp import set_waiting

set_waiting()
