"""The suite's own tests: generic wiring only (scenario fixtures live in tests/scenarios/conftest.py)."""
pytest_plugins = ["pytester"]
