"""One store per domain (database-per-service) behind the typed interfaces in `protocols`."""
