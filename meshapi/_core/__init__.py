"""Pure building blocks of the SDK: no sockets, no event loop, nothing from ``meshapi.resources``."""
