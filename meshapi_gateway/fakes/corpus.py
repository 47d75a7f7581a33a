"""The built-in documents web search answers from (with the caller's RAG files, see ``routes/web.py``).

A handful of short pages on common developer topics, with real-looking URLs on distinct domains so
``include_domains`` / ``exclude_domains`` have something to filter. Nothing is fetched: the local
gateway never goes online.
"""

from __future__ import annotations

from typing import List, NamedTuple, Optional


class Document(NamedTuple):
    title: str
    url: str
    content: str
    published_date: Optional[str]
    #: The whole page when it is longer than ``content`` (a RAG file's text); else title and content.
    page: Optional[str] = None

    def page_text(self) -> str:
        """The page's text, as the page-content engine extracts it (``routes/web.py``)."""
        return self.page if self.page is not None else f"{self.title}\n\n{self.content}"


DOCUMENTS: List[Document] = [
    Document(
        "Python Releases",
        "https://www.python.org/downloads/",
        "Python 3.14 is the latest stable release of Python. Python 3.13 and 3.12 still receive "
        "security fixes; Python 3.9 reached end of life in October 2025.",
        "2026-10-07",
    ),
    Document(
        "What's New In Python 3.14",
        "https://docs.python.org/3/whatsnew/3.14.html",
        "Python 3.14 adds template strings (t-strings), deferred evaluation of annotations, a free-threaded "
        "build that is officially supported, and a new compression.zstd module.",
        "2025-10-07",
    ),
    Document(
        "HTTPX: a next-generation HTTP client for Python",
        "https://www.python-httpx.org/",
        "HTTPX is a fully featured HTTP client for Python 3 with sync and async APIs, HTTP/2 support, "
        "connection pooling, timeouts and transports such as MockTransport for tests.",
        None,
    ),
    Document(
        "Pydantic documentation",
        "https://docs.pydantic.dev/latest/",
        "Pydantic validates data with Python type hints. Models parse JSON, report every validation error "
        "with its location, and generate JSON Schema for structured output.",
        None,
    ),
    Document(
        "Server-sent events",
        "https://developer.mozilla.org/en-US/docs/Web/API/Server-sent_events",
        "Server-sent events let a server push text events over one long-lived HTTP response. Each event "
        "is a block of data: lines separated by a blank line; comments start with a colon.",
        None,
    ),
    Document(
        "HTTP 429 Too Many Requests",
        "https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/429",
        "The 429 status code means the user has sent too many requests in a given amount of time. A "
        "Retry-After header may say how long to wait before making a new request.",
        None,
    ),
    Document(
        "Exponential backoff and jitter",
        "https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/",
        "Retrying with exponential backoff and full jitter spreads retries out in time, which keeps many "
        "clients from retrying in lockstep after an outage.",
        "2015-03-04",
    ),
    Document(
        "Retrieval-augmented generation",
        "https://en.wikipedia.org/wiki/Retrieval-augmented_generation",
        "Retrieval-augmented generation (RAG) gives a language model documents retrieved for the question, "
        "usually by vector search over embedded chunks, so answers can cite up-to-date sources.",
        None,
    ),
    Document(
        "Text embeddings",
        "https://platform.openai.com/docs/guides/embeddings",
        "An embedding is a vector of floating point numbers; the distance between two vectors measures how "
        "related two texts are. Embeddings power search, clustering and recommendations.",
        None,
    ),
    Document(
        "The WAV file format",
        "https://en.wikipedia.org/wiki/WAV",
        "WAV is a RIFF container for audio, most often uncompressed 16-bit PCM. A file has a fmt chunk "
        "with the sample rate and channels and a data chunk with the samples.",
        None,
    ),
    Document(
        "Kubernetes: Deployments",
        "https://kubernetes.io/docs/concepts/workloads/controllers/deployment/",
        "A Deployment manages a set of Pods for a stateless application and rolls out changes gradually, "
        "with rollbacks when a new version fails its readiness checks.",
        None,
    ),
    Document(
        "Rain",
        "https://en.wikipedia.org/wiki/Rain",
        "Rain is water droplets that have condensed from atmospheric water vapour and fall under gravity. "
        "It is a major part of the water cycle and provides fresh water for most plants and animals.",
        None,
    ),
    Document(
        "MeshAPI gateway overview",
        "https://developers.meshapi.ai/docs/overview",
        "MeshAPI is one OpenAI-compatible gateway in front of many model providers: chat completions, "
        "responses, embeddings, images, audio, video, moderation, web search and an auto router.",
        None,
    ),
]
