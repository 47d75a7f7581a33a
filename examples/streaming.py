"""Stream a reply as it is generated, then read the merged final completion."""

from meshapi import MeshAPI

with MeshAPI() as client:
    messages = [{"role": "user", "content": "Tell me a short story about a lighthouse."}]
    with client.chat.completions.stream(model="openai/gpt-4o-mini", messages=messages) as stream:
        for text in stream.text_stream:
            print(text, end="", flush=True)
        final = stream.get_final_completion()
    tokens = final.usage.total_tokens if final.usage else "?"  # usage is absent when a provider sends none
    print(f"\n[{final.choices[0].finish_reason}, {tokens} tokens, request {stream.request_id}]")
