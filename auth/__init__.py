"""Who is asking: JWTs, password hashes, and the viewer taken from a request."""
