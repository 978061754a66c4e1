"""The benchmarks: `server/` (`gocua-server bench`) and `device/` (`python -m devtools.bench.device`).

Figures come from commands, never from timed tests: BENCHMARKS.md explains them.
Importing this package imports neither benchmark (the device bench must not pull
in the server's dependencies).
"""
