"""Import and export of the directory: CSV and XLSX files matched row by row on each record's natural key."""
