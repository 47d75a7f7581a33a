"""Run the local gateway in-process, inject a fault, and watch the SDK retry through it."""

from meshapi import MeshAPI
from meshapi.gateway import serve

with serve() as gw, MeshAPI(base_url=gw.base_url, token=gw.token, retry_initial_delay=0.05) as client:
    gw.faults.add("/v1/chat/completions", status=429, retry_after="0", times=2)
    reply = client.chat.completions.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    )
    attempts = gw.requests.filter(path="/v1/chat/completions")
    print(reply.choices[0].message.content)
    print(
        len(attempts),
        "attempts, one idempotency key:",
        len({a.headers["idempotency-key"] for a in attempts}) == 1,
    )
