"""AWS Lambda entry points: the API behind API Gateway, and the event consumers."""
