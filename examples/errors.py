"""Typed errors with request ids, and a retried 429 (needs the local gateway for the fault)."""

import meshapi
from meshapi import MeshAPI

with MeshAPI() as client:
    try:
        client.chat.completions.create(
            model="nobody/no-such-model", messages=[{"role": "user", "content": "hi"}]
        )
    except meshapi.NotFoundError as e:
        print(type(e).__name__, e.status, e.error_code, e.request_id)
    try:
        # mypy reports the typo as well; the ignore lets this example show the check made at run time
        client.chat.completions.create(  # type: ignore[call-overload]
            model="openai/gpt-4o-mini", messages=[], temprature=0.2
        )
    except meshapi.InvalidParamsError as e:
        print("caught before sending:", e)
