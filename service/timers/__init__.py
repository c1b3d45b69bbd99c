"""Timer events of running instances: the due-timer table, kept in line by each step, fired by the worker."""
