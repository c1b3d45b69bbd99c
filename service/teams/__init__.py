"""Product teams: the equipment classes each serves and its support-level queues."""
