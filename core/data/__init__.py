"""Data: reading the user's files, recognising their shape, checking them, and turning rows into trained tokens."""
