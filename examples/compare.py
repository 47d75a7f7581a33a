"""Compare two models side by side, live, then read the synthesis and usage."""

from meshapi import MeshAPI

with MeshAPI() as client:
    stream = client.compare.stream(
        models=["openai/gpt-4o-mini", "anthropic/claude-haiku-4.5"],
        messages=[{"role": "user", "content": "Explain vector search in one sentence."}],
    )
    with stream:
        for event in stream:
            if event.event == "model_chunk":
                print(f"[{event.model}] {event.delta}")
            elif event.event == "comparison_chunk":
                print(event.delta, end="")
        result = stream.get_final()
    print()
    for model in result.models:
        usage = result.usage(model)
        print(model, usage.total_tokens if usage else "-", "tokens")
