"""Files (the FILE-* criteria): references in the data, the URLs Parse serves them at, the stores that hold them.

    facade.py      FilesFacade (``session.files``): what the FILE-* checks and API-04 ask
    refs.py        file references in a Parse MongoDB, streamed (top-level File fields, nested File values)
    urls.py        file URLs exactly as Parse Server and its files adapters build them
    storage.py     buckets (region, public access), objects, GridFS completeness, listings, orphans
    resolve.py     concurrent resolution of file references: bounded pool, outcomes, summaries
    url_answer.py  what one file URL answers: HEAD or a ranged GET, timeouts, retries with backoff
    integrity.py   FILE-01 per run at the cost of its references: stores read once, a class read once
    stores.py      the run's stores for FILE-01: per bucket a listing or lookups, in the background
    store_plan.py  per bucket, list it or look up each reference, whichever the counts favour
    listing_file.py a listing bounded in memory: an SQLite file beyond the bound (also how processes share it)
    lookups.py     a store's facts asked object by object (HeadObject, GCS object GET), on a bounded pool
    shared_listing.py one listing per run among the processes sharing a scratch directory (flock)
    store_index.py bucket listings with their digests (compact), the request counter, the job prefetch
    digests.py     store digests (MD5 and multipart ETags, x-amz-checksum-*, md5Hash/crc32c) and their verdict
    content.py     the content judge: digests first, then a HEAD of both sides, then sampled bytes
    content_type.py the Content-Type family a file is served as, against the source's
    sampling.py    ranged reads of both sides: a configurable share of the bytes
    gridfs_state.py GridFS state in batches: chunk census and digests of the target and the source
    gcs.py         a read-only GCS JSON API client: listings, location, public read (ACL or IAM)
"""
from cutover.files.facade import FieldResolution, FilesFacade, LegacyFacts, StoreFacts
from cutover.files.integrity import ClassResolution
from cutover.files.refs import FileField, FileRef
from cutover.files.resolve import Failure, ResolveSummary, require_verified
from cutover.files.storage import Orphans

__all__ = ["ClassResolution", "Failure", "FieldResolution", "FileField", "FileRef", "FilesFacade", "LegacyFacts",
           "Orphans", "ResolveSummary", "StoreFacts", "require_verified"]
