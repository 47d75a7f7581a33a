"""A spoken realtime turn from a WAV file to a WAV file, with typed events, handlers and server VAD.

Writes question.wav (a tone standing in for a recording), streams it with silence around it so the
gateway's voice activity detection ends the turn, and writes the spoken answer to answer.wav.
"""

from meshapi import MeshAPI
from meshapi.realtime import ReconnectPolicy, voice

voice.write_wav("question.wav", voice.tone(700, frequency=180))
speech = voice.silence(300) + voice.read_wav("question.wav") + voice.silence(600)

answer = bytearray()
with (
    MeshAPI() as client,
    client.realtime.connect(
        model="openai/gpt-realtime-mini", reconnect=ReconnectPolicy(max_attempts=3)
    ) as session,
):
    turn = {"type": "server_vad", "silence_duration_ms": 400}
    session.session.update(output_modalities=["audio"], audio={"input": {"turn_detection": turn}})
    session.on(
        "input_audio_buffer.speech_started", lambda e: print("speech started at", e.audio_start_ms, "ms")
    )
    session.on(
        "input_audio_buffer.speech_stopped", lambda e: print("speech stopped at", e.audio_end_ms, "ms")
    )
    session.on("response.output_audio.delta", lambda e: answer.extend(e.audio))
    session.on("response.output_audio_transcript.done", lambda e: print("answer:", e.transcript))
    for chunk in voice.chunks(speech, ms=100):
        session.input_audio_buffer.append(chunk)
    session.run(until=lambda event: event.type == "response.done", timeout=30)

voice.write_wav("answer.wav", bytes(answer))
print(f"answer.wav: {voice.duration_ms(bytes(answer))} ms of PCM16 24 kHz audio")
