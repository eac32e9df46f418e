"""asyncio: awaiting a queue and iterating a subscription without blocking
the event loop or polling."""

import asyncio
import threading

import pytest

import shmq

LIMIT = 60


def later(seconds, action):
    timer = threading.Timer(seconds, action)
    timer.start()
    return timer


def test_await_a_queue_while_the_loop_keeps_running(client):
    work = client.queue("work")

    async def main():
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        ticking = asyncio.create_task(ticker())
        later(0.3, lambda: work.send(b"late"))
        message = await asyncio.wait_for(work.receive_async(), LIMIT)
        ticking.cancel()
        return message, ticks

    message, ticks = asyncio.run(main())
    assert message == b"late"
    assert ticks > 1  # the loop ran while the receive waited


def test_async_for_over_a_subscription(client):
    prices = client.topic("prices")
    subscription = client.subscribe("prices")

    async def main():
        later(0.1, lambda: [prices.publish(b"p%d" % index) for index in range(3)])
        received = []
        async for message in subscription:
            received.append(message)
            if len(received) == 3:
                subscription.unsubscribe()
        return received

    assert asyncio.run(asyncio.wait_for(main(), LIMIT)) == [b"p0", b"p1", b"p2"]


def test_a_cancelled_receive_loses_no_message(client):
    work = client.queue("work")

    async def main():
        waiting = asyncio.create_task(work.receive_async())
        await asyncio.sleep(0.1)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        work.send(b"kept")
        return await asyncio.wait_for(work.receive_async(), LIMIT)

    assert asyncio.run(main()) == b"kept"


def test_an_async_receive_times_out(client):
    work = client.queue("work")
    with pytest.raises(shmq.TimeoutError):
        asyncio.run(work.receive_async(timeout=0.1))


def test_awaits_on_a_single_consumer_queue_keep_its_lease(client):
    """A `consumers: single` queue is leased to one thread: every wait of a
    handle runs on the same worker, however many the loop's executor has."""
    ticks = client.queue("ticks")

    async def main():
        received = []
        for number in range(6):
            # Each wait overlaps a blocking call in the default executor,
            # which would otherwise hand the next wait to another worker.
            loop = asyncio.get_running_loop()
            busy = loop.run_in_executor(None, lambda: threading.Event().wait(0.05))
            # Sent from the loop's thread, which holds the producer's lease.
            loop.call_later(0.02, ticks.send, b"t%d" % number)
            received.append(await asyncio.wait_for(ticks.receive_async(), LIMIT))
            await busy
        return received

    assert asyncio.run(main()) == [b"t%d" % n for n in range(6)]
