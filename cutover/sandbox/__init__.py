"""The embedded sandbox (``--target demo``), and what other areas borrow from it: Node.js and pinned npm packages.

The REST area's SDK round-trips run the Parse JavaScript SDK with the sandbox's Node.js (the ``sandbox`` extra's
wheel, or ``CUTOVER_NODE``), install its pinned packages into the per-user cache the same way, and start it
under the same guard (it dies with the process that started it). Only standard-library modules are imported
here: the sandbox's servers need the extra, these names do not.
"""
from cutover.sandbox.cache_dir import default_cache_dir
from cutover.sandbox.guard import guarded
from cutover.sandbox.node_env import NODE_ENV, NodeRuntime, PinnedPackages, ensure_pinned, has_node, node_runtime

__all__ = ["NODE_ENV", "NodeRuntime", "PinnedPackages", "default_cache_dir", "ensure_pinned", "guarded", "has_node",
           "node_runtime"]
