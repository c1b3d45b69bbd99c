"""People: the user accounts of staff, partners and clients, managed over the API."""
