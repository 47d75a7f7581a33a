"""The typed floor: raw httpx plus minimal pydantic models of the chat shapes, validated from bytes.

Why it exists: an SDK that returns pydantic models cannot be cheaper than raw httpx plus pydantic doing
the same work, so this is the reference that shows how close the SDK is to the limit for a typed client
(raw httpx alone is not: it returns dicts). The models hold the fields the benchmark server sends, with
nothing else (no private attributes, no extra validators), and each body or ``data:`` line is validated
in one step from its bytes (``model_validate_json``), which is the cheapest typed decode pydantic offers.
Used by the ``floor`` variant of ``sync_chat``, ``async_chat``, ``stream``, ``rss`` and ``cold``.
"""

from __future__ import annotations

from typing import Any, List, Optional

from pydantic import BaseModel

__all__ = ["COLD_FLOOR", "Chunk", "Completion", "iter_data", "stream_floor"]


class Delta(BaseModel):
    role: Optional[str] = None
    content: Optional[str] = None


class ChunkChoice(BaseModel):
    index: int
    delta: Delta
    finish_reason: Optional[str] = None


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class Chunk(BaseModel):
    id: str
    object: str
    created: int
    model: str
    choices: List[ChunkChoice]
    usage: Optional[Usage] = None


class Message(BaseModel):
    role: str
    content: Optional[str] = None


class Choice(BaseModel):
    index: int
    message: Message
    finish_reason: Optional[str] = None


class Completion(BaseModel):
    id: str
    object: str
    created: int
    model: str
    choices: List[Choice]
    usage: Optional[Usage] = None


def iter_data(chunks: Any) -> Any:
    """The payload bytes of each ``data:`` line of an SSE body given as byte chunks, up to ``[DONE]``."""
    rest = b""
    for chunk in chunks:
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        for line in lines:
            if line.startswith(b"data:"):
                data = line[6:] if line[5:6] == b" " else line[5:]
                if data == b"[DONE]":
                    return
                yield data


def stream_floor(client: Any, url: str, body: Any, headers: Any, probe: Any) -> int:
    """One stream read by the floor: chunks validated from bytes, the text kept and joined at the end (the
    SDK variant reads its final text too: ``get_final_text()``), checked as the SDK's is."""
    text: List[str] = []
    with client.stream("POST", url, json=body, headers=headers) as response:
        response.raise_for_status()
        validate = Chunk.model_validate_json
        for data in iter_data(response.iter_bytes()):
            chunk = validate(data)
            for choice in chunk.choices:
                piece = choice.delta.content
                if piece:
                    text.append(piece)
            probe.tick()
        assert "".join(text).startswith("tok0000 ")
        return int(response.num_bytes_downloaded)


# The cold-start script of the floor: the models above, written out (a fresh interpreter runs it).
COLD_FLOOR = (
    "import httpx\n"
    "from typing import List, Optional\n"
    "from pydantic import BaseModel\n"
    "class Message(BaseModel):\n"
    "    role: str\n"
    "    content: Optional[str] = None\n"
    "class Choice(BaseModel):\n"
    "    index: int\n"
    "    message: Message\n"
    "    finish_reason: Optional[str] = None\n"
    "class Usage(BaseModel):\n"
    "    prompt_tokens: int\n"
    "    completion_tokens: int\n"
    "    total_tokens: int\n"
    "class Completion(BaseModel):\n"
    "    id: str\n"
    "    object: str\n"
    "    created: int\n"
    "    model: str\n"
    "    choices: List[Choice]\n"
    "    usage: Optional[Usage] = None\n"
    "with httpx.Client() as client:\n"
    "    r = client.post(URL + '/v1/chat/completions', json=BODY, headers=HEADERS)\n"
    "    r.raise_for_status()\n"
    "    Completion.model_validate_json(r.content).choices[0].message.content\n"
)
