"""The installed base: equipment items at the clients' sites, over the API."""
