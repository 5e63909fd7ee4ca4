"""Where the files behind our own /uploads/ URLs live: the app's file store (backend/storage.py:
a local directory or an S3-compatible bucket)."""
from ..storage import PREFIX, key_of, store, stored_key  # noqa: F401  (the names orders and wishes use)
