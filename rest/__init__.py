"""The RealWorld REST contract over the same use cases: JSON in and out, status codes, errors."""
