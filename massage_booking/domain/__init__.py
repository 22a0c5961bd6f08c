"""Pure domain rules: no Flask, no SQLAlchemy, so they can be tested and reasoned about on their own."""
