"""pytest glue for cutover: options, target loading, fixtures, parametrization and reports.

Loaded through the ``pytest11`` entry point ``cutover``; inert unless ``--target`` (or CUTOVER_TARGET) is given.
"""
