"""iobench's pytest plugin (``plugin``, loaded through the ``pytest11`` entry point): ``async_benchmark`` and the
iobench fixtures; ``runs`` drives strategies through the same path as ``iobench run``; ``compat`` is the one
place that touches pytest-benchmark's private hooks."""
