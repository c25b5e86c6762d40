"""``make perf``: iobench measuring itself against hand-written aiohttp code and the tools people use instead."""
