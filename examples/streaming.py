"""Stream a reply as it is generated, then read the merged final completion."""

from meshapi import MeshAPI

with MeshAPI() as client:
    messages = [{"role": "user", "content": "Tell me a short story about a lighthouse."}]
    with client.chat.completions.stream(model="openai/gpt-4o-mini", messages=messages) as stream:
        for text in stream.text_stream:
            print(text, end="", flush=True)
        final = stream.get_final_completion()
    print(
        f"\n[{final.choices[0].finish_reason}, {final.usage.total_tokens} tokens, request {stream.request_id}]"
    )
