"""A queue for one reader that holds nothing while it is empty.

Each idle GraphQL WebSocket had an ``asyncio.Queue`` of its consumer's incoming
messages (Strawberry's ``message_queue``) and one per subscription listening
to the channel layer (``listen_to_channel``): four deques each (items,
getters, putters, the ``join`` event's waiters), about 3 KB, empty nearly all
the time. ``Mailbox`` has what those queues are used for (``put_nowait``,
``get``, in order, unbounded) for the one task that reads them, and allocates
its deque only while something waits to be read.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Sequence
from typing import Any


class Mailbox:
    """Unbounded FIFO; ``get`` by one task at a time (a second concurrent
    reader is a programming error and raises RuntimeError)."""

    __slots__ = ("_items", "_waiter", "__weakref__")

    def __init__(self) -> None:
        self._items: deque | None = None
        self._waiter: asyncio.Future | None = None

    def put_nowait(self, item: Any) -> None:
        if self._items is None:
            self._items = deque()
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def qsize(self) -> int:
        return len(self._items) if self._items else 0

    def empty(self) -> bool:
        return not self._items

    async def get(self) -> Any:
        while not self._items:
            if self._waiter is not None:
                raise RuntimeError("Mailbox.get: another task is already waiting")
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        item = self._items.popleft()
        if not self._items:
            self._items = None  # idle again: no deque kept
        return item


class MailboxConsumer:
    """Mixin for Strawberry's ``GraphQLWSConsumer``: its message queue, and the
    queue of each ``listen_to_channel``, are mailboxes (each has one reader:
    the protocol handler's loop, the subscription's generator)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.message_queue = Mailbox()

    @contextlib.asynccontextmanager
    async def listen_to_channel(self, type: str, *, timeout: float | None = None,
                                groups: Sequence[str] = ()) -> AsyncIterator[Any]:
        """Strawberry's ``ChannelsConsumer.listen_to_channel`` (0.341: the
        group lock and the per-group count of listeners), with a mailbox in
        place of its ``asyncio.Queue``."""
        if self.channel_layer is None:
            raise RuntimeError("Layers integration is required listening for channels.")
        added_groups: list[str] = []
        queue = Mailbox()
        self.listen_queues[type].add(queue)  # a WeakSet: gone with this frame
        try:
            for group in groups:
                async with self._group_lock:
                    await self.channel_layer.group_add(group, self.channel_name)
                    self._group_refs[group] += 1
                added_groups.append(group)
            yield self._listen_to_channel_generator(queue, timeout)
        finally:
            for group in added_groups:
                async with self._group_lock:
                    self._group_refs[group] -= 1
                    if self._group_refs[group] <= 0:
                        del self._group_refs[group]
                        with contextlib.suppress(Exception):
                            await self.channel_layer.group_discard(group, self.channel_name)
