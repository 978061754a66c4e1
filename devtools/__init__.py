"""Tools outside the runtime: the demo, the synthetic population, the benchmarks.

Never on the phone (the phone build excludes this package) and never imported by
the runtime, except lazily by `gocua-server demo` and `gocua-server bench`, so
that the server's install can run them. It may import campaign, field_app and
sync_server; this package itself imports nothing at import time.
"""
