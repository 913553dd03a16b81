"""What only the project's own tests and benchmarks use; never shipped in the wheel (pyproject.toml lists the
packages it ships, and tests/package proves this one is not among them).

    defects.py       the catalogue of plantable defects: each breaks a migrated target in one named way
    variants.py      Parse Servers with server-side defects (and the app-triggers server) beside a sandbox
    faults.py        a fault-injecting TCP/HTTP proxy to put before any component
    parse_types.py   a hypothesis strategy for Parse objects of every type (the REST round-trip fuzz)
    cloud/           Cloud Code the variants install (triggers.js)

The sandbox a user runs (``pytest --target demo``, ``python -m cutover.sandbox``) stays in ``cutover.sandbox``.
"""
