"""Service contracts: their term, what they cover and their service level, over the API."""
