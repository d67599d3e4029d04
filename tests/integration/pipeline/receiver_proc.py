"""A webhook receiver process for the tests: shared Redis store, publishes to a stream.

    python -m tests.integration.pipeline.receiver_proc REDIS_URL STREAM PREFIX KEY_ID PUBLIC_KEY

Prints its URL on stdout, serves until stdin closes.
"""

from __future__ import annotations

import asyncio
import sys

from pixop_async.pipeline import StreamPublisher, connect
from pixop_async.webhooks import RedisEventStore, WebhookReceiver


async def main(url: str, stream: str, prefix: str, key_id: str, public_key: str) -> None:
    redis = connect(url)
    receiver = WebhookReceiver(
        {key_id: public_key},
        store=RedisEventStore(redis, prefix=prefix),
        publish=StreamPublisher(redis, stream),
    )
    async with receiver.serve() as address:
        print(address, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await redis.aclose()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:6]))
