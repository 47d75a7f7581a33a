"""The HTTP side of the gateway: the Starlette app and its middlewares, the wire details every route
shares (ASGI plumbing, strict JSON, validation 422s, SSE framing, multipart), the ``/_admin`` API and
the server around it (``serve()`` in a thread, ``meshapi gateway`` in the foreground).

Modules import what they need from the module itself; this package imports nothing.
"""
