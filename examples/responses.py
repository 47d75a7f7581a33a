"""The Responses API (reasoning models), plain and streamed."""

from meshapi import MeshAPI

with MeshAPI() as client:
    reply = client.responses.create(
        model="openai/o4-mini", input="Give me one prime number above 100.", reasoning={"effort": "low"}
    )
    print(reply.status, reply.output)
    with client.responses.stream(model="openai/o4-mini", input="Name three planets.") as stream:
        for text in stream.text_stream:
            print(text, end="")
    print()
