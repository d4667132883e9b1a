"""A realistic, deterministic data set written straight into the stores, for development and
benchmarks: `python -m seed --help`. Never point it at a database with real users: every
seeded user shares one known password."""
