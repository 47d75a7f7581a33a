"""Everything about planned faults, in one place: the plan (``plan.py``), applying a fault to an HTTP
exchange (``exchange.py``), to a realtime session (``realtime.py``), and failures planned on a model or
provider that server-side routing reacts to (``provider.py``).

Modules import what they need from the module itself; this package imports nothing.
"""
