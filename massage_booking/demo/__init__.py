"""Demo data for `make run` and the benchmarks: real US ZIP codes, generated therapists and their weeks,
payers and plans, and the demo logins. Tooling, not a use case: it builds rows through the services and
models, and nothing in services/ imports it."""
