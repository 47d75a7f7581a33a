"""What the gateway keeps of the traffic and how it shows and replays it: the request log (with secrets
redacted), cassettes, the record/replay proxy in front of a real gateway, and the inspector page.

Modules import what they need from the module itself; this package imports nothing.
"""
