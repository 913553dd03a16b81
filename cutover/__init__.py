"""cutover: facts about a Parse app migration (MongoDB, files, Parse Server, transport).

The library never imports pytest and never asserts: it returns facts and raises the typed errors of
:mod:`cutover.errors`. The pytest glue lives in :mod:`cutover_pytest`, the criteria in ``checks/``.
"""
__version__ = "0.1.0"
