"""Every text a user sees, with its English and Simplified Chinese side by side, and the keyed messages core raises
and reports (their English goes to the log, the page shows them in its own language)."""
