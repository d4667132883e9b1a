"""Copying one domain's data from one backend to another (`python -m stores.copy`), the
strangler step that moves a domain to a new store: batches dumped from the source in key order
and restored into the target, progress kept in a state file so that an interrupted copy resumes,
then a verification of both sides record by record."""
