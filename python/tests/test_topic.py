"""Topics from Python: publish, loans, history, zero-copy reads."""

import pytest

import shmq
from shmq._native import ffi

FOUR_MIB = 4 * 1024 * 1024


def test_publish_and_receive_with_history(client):
    prices = client.topic("prices")
    assert (prices.capacity, prices.max_message_size, prices.history) == (64, 256, 4)
    for index in range(6):
        prices.publish(b"price %d" % index)
    with client.subscribe("prices", history=2) as subscription:
        assert subscription.receive(timeout=10) == b"price 4"
        assert subscription.receive(timeout=10) == b"price 5"
        assert subscription.try_receive() is None
        prices.publish(bytearray(b"live"))
        buffer = bytearray(16)
        assert bytes(buffer[:subscription.receive_into(buffer, timeout=10)]) == b"live"
        assert subscription.received == 3 and subscription.lost == 0
        with pytest.raises(shmq.TimeoutError):
            subscription.receive(timeout=0.05)
    assert not subscription.active
    with pytest.raises(shmq.ClosedError):
        subscription.receive(timeout=0)


def test_a_loan_is_published_on_leaving_its_block_and_given_up_on_an_error(client):
    prices = client.topic("prices")
    subscription = client.subscribe("prices")
    with prices.loan(5) as buffer:
        assert isinstance(buffer, memoryview) and not buffer.readonly and len(buffer) == 5
        buffer[:] = b"loan!"
    with pytest.raises(ValueError):
        buffer[0] = 1  # released with the loan
    with pytest.raises(RuntimeError):
        with prices.loan(3) as buffer:
            buffer[:] = b"bad"
            raise RuntimeError("the publisher changed its mind")
    prices.publish(b"after")
    assert subscription.receive(timeout=10) == b"loan!"
    assert subscription.receive(timeout=10) == b"after"  # the cancelled loan was skipped
    with pytest.raises(shmq.MessageTooLargeError):
        prices.loan(257)


def test_a_zero_copy_read_of_a_four_mib_message(client):
    frames = client.topic("frames")
    first = client.subscribe("frames")
    second = client.subscribe("frames")
    pattern = bytes(range(256)) * (FOUR_MIB // 256)
    with frames.loan(FOUR_MIB) as buffer:
        buffer[:] = pattern
    view = first.read(timeout=10)
    other = second.read(timeout=10)
    with view as data:
        assert data.readonly and len(data) == FOUR_MIB
        assert data == pattern
        # Zero copy: both subscribers see the very bytes of the one slot in
        # shared memory, not copies of their own.
        assert ffi.cast("uintptr_t", ffi.from_buffer(data)) == ffi.cast("uintptr_t", ffi.from_buffer(other.data))
        with pytest.raises(TypeError):
            data[0] = 0
        kept_slice = data[:16]
    assert view.released
    with pytest.raises(ValueError):
        data[0]  # the memoryview handed out is released with the view
    with pytest.raises(shmq.ClosedError):
        view.data
    assert bytes(kept_slice) == pattern[:16]  # a slice kept past release reads stale memory, never crashes
    other.release()
    other.release()  # idempotent


def test_views_are_limited_and_released_by_unsubscribe(client):
    prices = client.topic("prices")
    subscription = client.subscribe("prices")
    for index in range(5):
        prices.publish(b"%d" % index)
    views = [subscription.read(timeout=10) for _ in range(4)]
    assert [view.tobytes() for view in views] == [b"0", b"1", b"2", b"3"]
    with pytest.raises(shmq.Error) as raised:
        subscription.read(timeout=10)
    assert raised.value.status == shmq.Status.TOO_MANY_VIEWS
    data = views[0].data
    subscription.unsubscribe()
    assert all(view.released for view in views)
    with pytest.raises(ValueError):
        bytes(data)


def test_an_exported_view_refuses_to_release(client):
    prices = client.topic("prices")
    subscription = client.subscribe("prices")
    prices.publish(b"exported")
    view = subscription.read(timeout=10)
    exporter = memoryview(view.data)  # a second view of the same export is fine
    held = ffi.from_buffer(view.data)  # an export the memoryview cannot revoke
    with pytest.raises(BufferError):
        view.release()
    assert not view.released
    del held
    view.release()
    assert view.released
    del exporter
