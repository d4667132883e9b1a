"""The use cases, one module per domain: validate, authorize, read, write, publish.
GraphQL (`schema/`) and REST (`rest/`) both call these; neither holds a rule of its own."""
