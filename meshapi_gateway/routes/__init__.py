"""The gateway's routes, one module per SDK resource, so an endpoint is found by its SDK name.

Each module declares ``ROUTES`` (a list of Starlette routes) for its resource; :func:`all_routes`
collects them in a fixed order for ``create_app``. Code that several resources share lives below them
(``_conversation.py`` here, the stand-ins in ``fakes/``, the helpers in ``http/context.py``): route
modules never import each other.

=============  ===========================================================
module         SDK resource / endpoints
=============  ===========================================================
chat           ``chat.completions`` - ``/v1/chat/completions``
compare        ``compare`` - ``/v1/chat/compare``
responses      ``responses`` - ``/v1/responses``
embeddings     ``embeddings`` - ``/v1/embeddings``
images         ``images`` - ``/v1/images/generations``, ``/v1/images/edits``
audio          ``audio`` - ``/v1/audio/*`` (speech, transcriptions, translations, voices)
videos         ``videos`` - ``/v1/video/generations*`` and the ``/_media/videos`` downloads
moderations    ``moderations`` - ``/v1/moderations``
web            ``web`` - ``/v1/web/search``
router         ``router`` - ``/v1/router/select``
models         ``models`` - ``/v1/models*``
api_versions   ``api_versions`` - ``/v1/api-versions``
templates      ``templates`` - ``/v1/templates*``
memories       ``memories`` - ``/v1/memories*`` (memories and their items)
rag            ``rag`` - ``/v1/files*`` and the signed ``/_upload`` target
batches        ``batches`` - ``/v1/batches*``
realtime       ``realtime`` - ``/v1/realtime`` (WebSocket)
usage          ``usage`` - ``/v1/usage*`` (summary, events, attempts, spend trend, rate limits)
balance        ``balance`` - ``/v1/balance``
=============  ===========================================================
"""

from __future__ import annotations

from typing import List

from starlette.routing import BaseRoute

from . import (
    api_versions,
    audio,
    balance,
    batches,
    chat,
    compare,
    embeddings,
    images,
    memories,
    models,
    moderations,
    rag,
    realtime,
    responses,
    router,
    templates,
    usage,
    videos,
    web,
)

#: The route modules in registration order (earlier modules win when two patterns overlap).
MODULES = (
    models,
    api_versions,
    chat,
    compare,
    responses,
    embeddings,
    images,
    audio,
    videos,
    moderations,
    web,
    router,
    templates,
    memories,
    rag,
    batches,
    realtime,
    usage,
    balance,
)


def all_routes() -> List[BaseRoute]:
    """Every data-plane route of every resource module (admin routes are added by ``http/app.py``)."""
    found: List[BaseRoute] = []
    for module in MODULES:
        found.extend(module.ROUTES)
    return found
