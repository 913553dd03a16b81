"""The acceptance checks shipped with the package: one module per area, each test marked with its criterion.

The plugin collects this directory whenever --target is given (see cutover_pytest.selection).
"""
