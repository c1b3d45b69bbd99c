"""The permission matrix's table of routes, one module per domain; `tests/integration/test_permission_matrix.py`
runs it."""
