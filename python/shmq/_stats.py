"""Client.stats(): the C API's snapshot as plain dicts."""

from ._errors import check
from ._native import ffi, lib


def _fields(struct, names):
    result = {}
    for name in names:
        value = getattr(struct, name)
        if isinstance(value, ffi.CData):
            value = ffi.string(value).decode(errors="replace") if value != ffi.NULL else ""
        result[name] = value
    return result


_QUEUE = ("name capacity max_message_size overflow delivery quarantined depth enqueued dequeued rejected "
          "dropped abandoned lost_in_read redelivered dead_lettered producers consumers quarantine_reason "
          "read_only removed").split()
_SIDES = "producers consumers producer_lease_pid consumer_lease_pid".split()
_TOPIC = ("name capacity max_message_size history max_subscribers slow_subscriber quarantined published "
          "abandoned dropped subscriptions publishers quarantine_reason read_only removed").split()


def _flags(entry):
    """C's int flags as Python booleans."""
    for name in ("quarantined", "read_only", "removed"):
        entry[name] = bool(entry[name])
    return entry


_SUBSCRIBER = "record client_record pid program lag received lost views".split()
_CLIENT = "record pid program attached_ms".split()


def take_stats(client) -> dict:
    out = ffi.new("shmq_stats **")
    check(lib.shmq_stats_take(client, out), "stats")
    stats = ffi.gc(out[0], lib.shmq_stats_free)
    broker = ffi.new("shmq_broker_stats *")
    check(lib.shmq_stats_broker(stats, broker))
    result = _fields(broker, ("broker", "broker_pid", "broker_alive", "broker_epoch", "segment_size"))
    result["broker_alive"] = bool(result["broker_alive"])
    queue = ffi.new("shmq_queue_stats *")
    sides = ffi.new("shmq_queue_sides *")
    result["queues"] = []
    for index in range(broker.queues):
        check(lib.shmq_stats_queue(stats, index, queue))
        check(lib.shmq_stats_queue_sides(stats, index, sides))
        entry = _flags(_fields(queue, _QUEUE))
        # "producers" and "consumers" count the attached ends; their settings
        # are named as in the JSON of `shmq stats`.
        shared = _fields(sides, _SIDES)
        entry["producers_sharing"] = shared["producers"]
        entry["consumers_sharing"] = shared["consumers"]
        entry["producer_lease_pid"] = shared["producer_lease_pid"]
        entry["consumer_lease_pid"] = shared["consumer_lease_pid"]
        result["queues"].append(entry)
    topic = ffi.new("shmq_topic_stats *")
    subscriber = ffi.new("shmq_subscriber_stats *")
    result["topics"] = []
    for index in range(broker.topics):
        check(lib.shmq_stats_topic(stats, index, topic))
        entry = _flags(_fields(topic, _TOPIC))
        entry["subscribers"] = []
        for inner in range(topic.subscribers):
            check(lib.shmq_stats_subscriber(stats, index, inner, subscriber))
            entry["subscribers"].append(_fields(subscriber, _SUBSCRIBER))
        result["topics"].append(entry)
    client_info = ffi.new("shmq_client_info *")
    result["clients"] = []
    for index in range(broker.clients):
        check(lib.shmq_stats_client(stats, index, client_info))
        result["clients"].append(_fields(client_info, _CLIENT))
    return result
