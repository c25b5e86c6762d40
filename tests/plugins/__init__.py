"""Plugins written in test code only, one per kind of extension, as a contributor would write them from the README:
each is one module, loaded with ``--plugin tests.plugins.<name>``; nothing in bench/ knows of them."""
