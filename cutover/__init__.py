"""cutover: facts about a Parse app migration (MongoDB, files, Parse Server, transport).

The library never imports pytest and never asserts: it returns facts and raises the typed errors of
:mod:`cutover.errors`. The catalogue of criteria is :mod:`cutover.run.criteria`; the pytest glue and the checks
live in :mod:`cutover_pytest` (``cutover_pytest/checks/``).
"""
__version__ = "0.1.0"
