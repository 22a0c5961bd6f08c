"""Use cases. Each takes a SQLAlchemy Session, the acting user and plain arguments; each flushes and
never commits, so the caller (a view, an API handler or a CLI command) owns the transaction."""
