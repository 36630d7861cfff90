"""Where articles live: SQLite by default, PostgreSQL in production, and how they are read back."""
