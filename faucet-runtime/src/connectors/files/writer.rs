//! An append-only local file with a durable, truncatable length. (stub)
