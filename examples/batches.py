"""A batch of chat requests, run to completion."""

from meshapi import MeshAPI

with MeshAPI() as client:
    batch = client.batches.create(
        requests=[
            {
                "custom_id": f"ticket-{n}",
                "body": {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": text}]},
            }
            for n, text in enumerate(["app crashes on login", "refund not received", "love the new feature"])
        ],
        metadata={"job": "triage"},
    )
    print("created", batch.id, batch.status)
    done = client.batches.wait(batch.id, timeout=120)
    print("finished", done.status)
    for item in sorted(done.results or [], key=lambda r: r.custom_id or ""):
        if item.response is not None and item.response.body is not None:  # else item.error says why
            print(item.custom_id, "->", item.response.body["choices"][0]["message"]["content"][:60])
