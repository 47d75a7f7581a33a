"""The transport layer: everything that touches a socket, and every use of httpx's and httpcore's privates.

The rest of the SDK builds requests and decodes responses with pure code (``meshapi._core``, which may
use httpx's public types but none of its private names); this package sends them. Nothing outside it
reads or sets a private attribute of an httpx or httpcore object.

Vocabulary (one word, one thing):

* **transport layer**: this package.
* **HTTP client**: ``SyncHttpClient`` / ``AsyncHttpClient`` (``client``, shared code in ``base``'s
  ``HttpClientBase``): our sender, one per ``MeshAPI`` / ``AsyncMeshAPI``, held by every resource as
  ``_http``. It owns the send -> retry -> sleep loop.
* **httpx client**: the ``httpx.Client`` / ``httpx.AsyncClient`` an HTTP client sends through (its
  ``_client``): one the SDK made, or one passed in as ``httpx_client=`` / ``async_httpx_client=``.
* **httpx transport**: an ``httpx.BaseTransport`` / ``AsyncBaseTransport`` inside an httpx client (httpx's
  connection pool, ``aiohttp.AiohttpTransport``, a test's ``MockTransport``). The public option
  ``AsyncMeshAPI(http_transport=...)`` picks the one the SDK's httpx client uses.
* **transport error**: an httpx exception (``httpx.HTTPError``) raised while sending or reading; it leaves
  the SDK as a ``MeshAPIError`` through ``meshapi._core.response.map_transport_error`` (in a ``with``
  block: ``foreign_errors``).
* **retry schedule** (``meshapi._core.retry.RetrySchedule``): the numbers the retry state decides by,
  made from the public ``meshapi.RetryPolicy`` or the older config knobs.

Modules: ``client`` the two send loops, ``base`` what they share (request building, what an attempt's
outcome means, resilience events), ``hooks`` what runs around each attempt (token, retry count, time
left, ``on_request`` / ``on_response``), ``methods`` the 0.1.4 call helpers on top of ``send``, ``pool``
the SDK's own connection pools (``http2`` their HTTP/2 checks and early-close resets), ``direct`` sending on them without ``httpx.Client.send``, ``reading``
bodies read under a size cap, ``deadline`` ``total_timeout`` on what is read (the timeout rules
themselves are ``meshapi._core.timeouts``), ``fork`` sockets inherited across ``os.fork()``, ``loops`` a
pool per event loop and the one way to drop connections whose loop is over, ``capture`` the raw-response
capture, ``aiohttp`` the optional aiohttp httpx transport and ``otel`` tracing.
"""
