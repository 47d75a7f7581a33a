"""Everything that touches a socket, and every use of httpx's and httpcore's private parts.

The rest of the SDK builds requests and decodes responses with pure code (``meshapi._core``); this
package sends them: ``client`` has the two send -> retry -> sleep loops (``SyncHttpClient`` /
``AsyncHttpClient``), ``base`` what both loops share (request building, per-attempt hooks), ``methods``
the 0.1.4 call helpers on top of ``send``, ``pool`` the SDK's own connection pools, ``reading`` bodies
read under a size cap, ``deadline`` ``total_timeout``, ``fork`` sockets inherited across ``os.fork()``,
``capture`` the raw-response capture, ``aiohttp`` the optional aiohttp transport and ``otel`` tracing.
"""
