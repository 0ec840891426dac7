"""schema/mailbox.py: the one-reader queue of the GraphQL WebSocket consumer."""

from __future__ import annotations

import asyncio
import gc
import weakref

import pytest

from schema.mailbox import Mailbox, MailboxConsumer
from schema.ws_sessions import GraphQLConsumer


class Item:
    pass


def run(coro):
    return asyncio.run(coro)


def test_items_come_out_in_the_order_they_were_put():
    async def scenario():
        box = Mailbox()
        for n in range(5):
            box.put_nowait(n)
        assert box.qsize() == 5 and not box.empty()
        return [await box.get() for _ in range(5)]

    assert run(scenario()) == [0, 1, 2, 3, 4]


def test_get_waits_until_something_is_put():
    async def scenario():
        box = Mailbox()
        reader = asyncio.ensure_future(box.get())
        await asyncio.sleep(0)
        assert not reader.done()
        box.put_nowait("hello")
        return await asyncio.wait_for(reader, 5)

    assert run(scenario()) == "hello"


def test_an_item_once_read_is_not_kept():
    async def scenario():
        box, item = Mailbox(), Item()
        ref = weakref.ref(item)
        box.put_nowait(item)
        del item
        await box.get()
        gc.collect()
        return ref(), box.empty(), box.qsize()

    assert run(scenario()) == (None, True, 0)


def test_a_cancelled_get_loses_nothing_put_afterwards():
    async def scenario():
        box = Mailbox()
        reader = asyncio.ensure_future(box.get())
        await asyncio.sleep(0)
        reader.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reader
        box.put_nowait("kept")
        return await asyncio.wait_for(box.get(), 5)

    assert run(scenario()) == "kept"


def test_a_timed_out_get_leaves_the_mailbox_usable():
    async def scenario():
        box = Mailbox()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(box.get(), 0.01)
        box.put_nowait(1)
        return await asyncio.wait_for(box.get(), 5)

    assert run(scenario()) == 1


def test_a_second_concurrent_reader_is_refused():
    async def scenario():
        box = Mailbox()
        first = asyncio.ensure_future(box.get())
        await asyncio.sleep(0)
        with pytest.raises(RuntimeError):
            await box.get()
        box.put_nowait("for the first")
        return await asyncio.wait_for(first, 5)

    assert run(scenario()) == "for the first"


def test_the_projects_consumer_queues_its_messages_in_a_mailbox(settings):
    assert issubclass(GraphQLConsumer, MailboxConsumer)
    consumer = GraphQLConsumer(schema=None)
    assert isinstance(consumer.message_queue, Mailbox)
