"""Report building blocks that need no web framework: periods and time zones, SQL expressions
that work on SQLite and PostgreSQL, aggregation of grouped rows, CSV and PDF rendering."""
