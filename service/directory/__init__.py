"""What every kind of directory record shares: its change history, its version (the ETag), paging by natural key."""
