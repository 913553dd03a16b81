"""What every pytest run started by the own tests leaves out.

The dev environment's hypothesis and anyio pytest plugins load in every pytest process and play no part in a
run of the checks: measured here, a trivial run takes 2.5 s with them and 1.4 s without, and the own suite
starts a few hundred such runs (scenarios, plugin tests, their xdist workers).
"""
from __future__ import annotations

UNUSED_PLUGINS = ("-p", "no:hypothesispytest", "-p", "no:anyio")
