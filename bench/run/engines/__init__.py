"""Where client work runs besides this process: ``processes`` (k child processes on this host, started together
on the shared clock), ``ray_actors`` (one Ray actor each), both running ``share_worker`` over the records of
``shares``."""
