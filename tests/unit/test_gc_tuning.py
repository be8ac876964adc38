"""Freezing what survives full collections keeps them short, and the periodic sweep still
reclaims a cycle that died after it was frozen."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from relais.core.gc_tuning import CollectorTuning


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector can free it


@pytest.fixture
def clock() -> Iterator[list[float]]:
    now = [0.0]
    yield now


def test_survivors_are_frozen_and_a_dead_cycle_is_reclaimed_at_the_sweep(
    clock: list[float],
) -> None:
    tuning = CollectorTuning(sweep_every_s=60.0, clock=lambda: clock[0])
    tuning.install()
    try:
        node = Node()
        alive = weakref.ref(node)
        gc.collect()
        assert gc.get_freeze_count() > 0, "what survived a full collection is frozen"

        del node
        gc.collect()
        assert alive() is not None, "frozen: later full collections no longer scan it"

        clock[0] = 61.0  # the sweep is due: this collection unfreezes, the next one reclaims
        gc.collect()
        gc.collect()
        assert alive() is None
    finally:
        tuning.uninstall()
    assert gc.get_freeze_count() == 0
