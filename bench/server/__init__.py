"""The local test server: its processes on 127.0.0.1 (``process``: spawn, health, restart, stop), its aiohttp app
(``app``: endpoints, ``Server-Timing``, ``/stats``), precise delays (``precise``) and its own garbage collection
kept out of bursts (``collector``).

    from bench.server import LocalServer
    with LocalServer() as url:        # http://127.0.0.1:PORT
        ...
"""

from bench.server.process import LocalServer, is_loopback, serve_foreground

__all__ = ["LocalServer", "is_loopback", "serve_foreground"]
