"""A realtime (WebSocket) session: one text turn, and the audio that came back."""

from meshapi import MeshAPI

with MeshAPI() as client, client.realtime.connect(model="openai/gpt-realtime-mini") as session:
    print(session.receive().type)
    print("reply:", session.send_text("Say hello in three words."))
