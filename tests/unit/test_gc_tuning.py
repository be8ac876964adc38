"""The loop's collector: short young collections, survivors frozen, and the periodic sweep
still reclaims a cycle that died after it was frozen."""

from __future__ import annotations

import asyncio
import gc
import weakref

from relais.core.gc_tuning import LoopCollector


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector can free it


def test_survivors_are_frozen_and_a_dead_cycle_is_reclaimed_at_the_sweep() -> None:
    clock = [0.0]
    collector = LoopCollector(middle_every=3, sweep_every_s=60.0, clock=lambda: clock[0])
    gc.unfreeze()
    try:
        young = Node()
        died_young = weakref.ref(young)
        del young
        collector.step()
        assert died_young() is None, "a young step reclaims a cycle that died young"

        node = Node()
        alive = weakref.ref(node)
        collector.step()
        assert gc.get_freeze_count() == 0, "young steps freeze nothing"
        collector.step()  # the third: middle generations, then what survived is frozen
        assert gc.get_freeze_count() > 0

        del node
        for _ in range(6):
            collector.step()
        assert alive() is not None, "frozen: later steps no longer scan it"

        clock[0] = 61.0  # the sweep is due: everything unfrozen and collected once
        collector.step()
        assert alive() is None
        assert gc.get_freeze_count() > 0, "the sweep's survivors are frozen again"
    finally:
        gc.unfreeze()


async def test_the_automatic_collector_is_off_while_it_runs() -> None:
    collector = LoopCollector(young_every_s=0.01)
    assert gc.isenabled()
    await collector.start()
    try:
        assert not gc.isenabled()
        node = Node()
        alive = weakref.ref(node)
        del node
        for _ in range(100):
            if alive() is None:
                break
            await asyncio.sleep(0.01)
        assert alive() is None, "the loop task collects"
    finally:
        await collector.stop()
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
