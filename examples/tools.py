"""Tool calling: the model asks for a function call, we run it and send the result back."""

import json

from meshapi import MeshAPI

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}

with MeshAPI() as client:
    messages = [{"role": "user", "content": "What is the weather in Paris?"}]
    reply = client.chat.completions.create(
        model="openai/gpt-4o", messages=messages, tools=[WEATHER], tool_choice="auto"
    )
    message = reply.choices[0].message
    messages.append(message.model_dump(exclude_none=True))
    for call in message.tool_calls or []:  # None when the model answers in text instead
        args = json.loads(call.function.arguments)
        print("model asked for", call.function.name, args)
        weather = json.dumps({"city": args["city"], "temp_c": 18})
        messages.append({"role": "tool", "tool_call_id": call.id, "content": weather})
    final = client.chat.completions.create(model="openai/gpt-4o", messages=messages, tools=[WEATHER])
    print(final.choices[0].message.content)
