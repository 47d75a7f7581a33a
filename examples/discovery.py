"""Moderation, web search, the auto router's choice and a catalog search."""

from meshapi import MeshAPI

with MeshAPI() as client:
    verdict = client.moderations.create(input=["have a nice day", "I will hurt you"])
    for result in verdict.results:
        print("flagged" if result.flagged else "fine", result.flagged_categories)

    found = client.web.search("latest stable Python release", max_results=3, include_answer=True)
    print("answer:", found.answer)
    for hit in found.results:
        print("-", hit.title, hit.url)

    choice = client.router.select(messages=[{"role": "user", "content": "Write a haiku about rain"}])
    print("the router would pick", choice.model)

    page = client.models.search(q="gpt", sort="id", limit=3)
    print(page.total, "models match 'gpt':", [m.id for m in page.items])
    print(client.models.get(page.items[0].id).name)
