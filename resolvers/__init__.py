"""The use cases, one module per domain: validate, authorize, read, write (with
the events the write raises), deliver those events.
GraphQL (`schema/`) and REST (`rest/`) both call these; neither holds a rule of its own."""
