//! Listing and reading local files through object_store. (stub)
