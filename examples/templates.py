"""Prompt templates: create one, chat through it, update it, delete it."""

import uuid

from meshapi import MeshAPI

with MeshAPI() as client:
    template = client.templates.create(
        name=f"support-{uuid.uuid4().hex[:6]}",
        system="You are a support agent for {{company}}. Be brief.",
        model="openai/gpt-4o-mini",
        variables=["company"],
    )
    reply = client.chat.completions.create(
        messages=[{"role": "user", "content": "How do I reset my password?"}],
        template=template.name,
        variables={"company": "Acme"},
    )
    print(reply.choices[0].message.content)
    print(client.templates.update(template.id, description="v2").description)
    client.templates.delete(template.id)
    print("deleted", template.id)
