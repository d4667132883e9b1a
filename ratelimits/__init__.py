"""Counting what clients spend against fixed-window budgets, on a store shared as widely as
the deployment needs: `memory://` (one process), `redis://` (every worker and server of a
deployment), `dynamodb://TABLE` (every Lambda container). The `limits` library supplies the
fixed-window strategy; each store is one of its asyncio storages."""
