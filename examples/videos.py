"""Start a video generation, wait for the task to finish, and save the video."""

from meshapi import MeshAPI

with MeshAPI() as client:
    task = client.videos.generate(
        model="byteplus/seedance-1-5-pro-251215",
        prompt="A paper boat drifting down a rainy street",
        duration=2,
    )
    print("task", task.id)
    done = client.videos.wait(task.id, poll_interval=0.5, on_poll=lambda t: print("  status:", t.status))
    if done.status != "succeeded":
        raise SystemExit(f"the task ended {done.status}: {done.error}")
    print("wrote", client.videos.download(done, "."))
