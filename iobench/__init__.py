"""``python -m iobench``: iobench's command line under a name a project's own ``bench`` package cannot shadow.

iobench's import name is ``bench``; inside a project that has its own ``bench`` package, ``python -m bench`` runs
that one (the current folder comes first on ``sys.path``). ``python -m iobench`` imports iobench's ``bench`` from
beside this package first.
"""
