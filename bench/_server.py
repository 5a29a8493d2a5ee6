"""A minimal keep-alive HTTP/1.1 server answering every request with one lipsync status, as fast as Python can.

The per-call benchmark measures the client, so the server must cost as little as possible, and run in its own
process (its own GIL). Prints "listening on PORT" once ready.
"""

from __future__ import annotations

import asyncio
import json

BODY = json.dumps({"status": "done", "video_url": "https://cdn.example.com/results/talking.mp4"}).encode()
RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
    + str(len(BODY)).encode()
    + b"\r\n\r\n"
    + BODY
)


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            if not head:
                break
            writer.write(RESPONSE)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main() -> None:
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(f"listening on {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
