"""Domain records and rules: plain typed data, standard library only, no I/O."""
