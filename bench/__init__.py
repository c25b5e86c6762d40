"""iobench: how much does concurrency buy your I/O, and why not more?"""

__version__ = "0.1.0"
