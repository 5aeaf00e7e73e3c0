"""The heap freeze that keeps full garbage collections off the request path."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from service.heap import freeze_long_lived_objects


class Node:
    """A stand-in for a model's objects: something in a reference cycle."""

    def __init__(self) -> None:
        self.itself = self


@pytest.fixture(autouse=True)
def unfrozen_after() -> Iterator[None]:
    yield
    gc.unfreeze()


def test_frozen_objects_leave_the_collections_and_are_freed_at_the_next_freeze():
    node = Node()
    alive = weakref.ref(node)
    freeze_long_lived_objects()
    assert gc.get_freeze_count() > 0
    assert all(tracked is not node for tracked in gc.get_objects())
    del node
    gc.collect()
    assert alive() is not None  # frozen: no collection walks it any more
    freeze_long_lived_objects()  # the next model swap
    assert alive() is None
