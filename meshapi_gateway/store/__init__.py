"""Storage and state shared by the routes of one gateway: per-owner records (memory or SQLite), the
Idempotency-Key cache, and the state object that holds them with the tokens, limits and plans.

Modules import what they need from the module itself; this package imports nothing.
"""
