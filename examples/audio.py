"""Text to speech into a WAV file, then transcribe it back; list a few voices."""

from meshapi import MeshAPI

with MeshAPI() as client:
    path = client.audio.synthesize_to_file(
        "shipped.wav", input="Your order has shipped.", model="sarvam/bulbul:v2"
    )
    print("wrote", path, path.stat().st_size, "bytes")
    transcript = client.audio.transcribe(path, model="sarvam/saaras:v3")
    print("heard:", transcript.text)
    page = client.audio.list_voices(page_size=3)
    for voice in page.voices:
        print(voice.voice_id, voice.name, voice.category)
