"""The zero-copy read of a topic message: Subscription.read() (a read-only
memoryview over the message in shared memory), touching its first and last
byte, and releasing it."""

import time

from measure import STUCK, pin
from transports import context


def _publish_rounds(broker, topic, rounds, per_round, published, consumed):
    import shmq
    pin(0)
    publisher = shmq.Client(broker).topic(topic)
    for _ in range(rounds):
        for _ in range(per_round):
            with publisher.loan() as buffer:
                buffer[0] = 1  # zero copy: the message is written in place, only touched here
        published.set()
        consumed.wait(STUCK)
        consumed.clear()


def read_seconds(broker, topic, count):
    """Seconds per message a subscriber pinned to CPU 1 spends reading a
    message another process (on CPU 0) published with a loan. The publisher
    publishes a round of as many messages as the topic holds, then waits:
    only reads of messages already there are timed, not the wait for the
    publisher (which would time the publisher)."""
    import shmq
    pin(1)
    client = shmq.Client(broker)
    subscription = client.subscribe(topic)
    per_round = client.topic(topic).capacity
    rounds = max(count // per_round, 1)
    published, consumed = context.Event(), context.Event()
    publisher = context.Process(target=_publish_rounds,
                                args=(broker, topic, rounds, per_round, published, consumed))
    publisher.start()
    elapsed = 0.0
    try:
        for _ in range(rounds):
            if not published.wait(STUCK):
                raise RuntimeError(f"the publisher of topic {topic} was stuck for {STUCK} s")
            published.clear()
            began = time.perf_counter()
            for _ in range(per_round):
                with subscription.read() as data:
                    if data[0] != 1:
                        raise RuntimeError(f"topic {topic}: a message is not the one published")
                    data[-1]
            elapsed += time.perf_counter() - began
            consumed.set()
    finally:
        publisher.join(STUCK)
        subscription.unsubscribe()
        client.close()
    return elapsed / (rounds * per_round)
