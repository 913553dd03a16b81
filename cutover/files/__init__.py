"""Files (FILE-01..FILE-04): references in the data, the URLs Parse serves them at, the stores that hold them.

    facade.py      FileFacts (``session.files``): what the FILE-* checks and API-04 ask
    refs.py        file references in a Parse MongoDB, streamed (top-level File fields, nested File values)
    urls.py        file URLs exactly as Parse Server and its files adapters build them
    storage.py     buckets (region, public access), objects, GridFS completeness, listings, orphans
    resolve.py     concurrent resolution of file URLs: HEAD or a ranged GET, bounded pool, retries
"""
from cutover.files.facade import FieldResolution, FileFacts, LegacyFacts, StoreFacts
from cutover.files.refs import FileField, FileRef
from cutover.files.resolve import ResolveSummary, require_verified
from cutover.files.storage import Orphans

__all__ = ["FieldResolution", "FileFacts", "FileField", "FileRef", "LegacyFacts", "Orphans", "ResolveSummary",
           "StoreFacts", "require_verified"]
