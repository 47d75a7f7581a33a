"""A chat completion, in the keyword style and in 0.1.4's parameter-model style."""

from meshapi import ChatCompletionParams, ChatMessage, MeshAPI

with MeshAPI() as client:  # MESHAPI_BASE_URL / MESHAPI_TOKEN from the environment
    reply = client.chat.completions.create(
        model="openai/gpt-4o-mini",
        messages=[{"role": "user", "content": "Write a haiku about Python."}],
        max_tokens=60,
    )
    print(reply.choices[0].message.content)

    reply = client.chat.completions.create(
        ChatCompletionParams(
            model="openai/gpt-4o-mini",
            messages=[
                ChatMessage(role="system", content="You are a concise assistant."),
                ChatMessage(role="user", content="What is the capital of France?"),
            ],
        )
    )
    print(reply.choices[0].message.content)
    if reply.usage is not None:  # absent when a provider reports none
        print(reply.usage.total_tokens, "tokens")
