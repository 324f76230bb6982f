"""Time operations side by side and print microseconds per op with ratios."""

from __future__ import annotations

import gc
import random
import time
from collections.abc import Callable, Mapping, Sequence

Operation = Callable[[int], object]


def per_op_microseconds(operation: Operation, count: int) -> float:
    """Run ``operation(i)`` for i in range(count) once; return µs per call."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        for index in range(count):
            operation(index)
        elapsed = time.perf_counter() - start
    finally:
        gc.enable()
    return elapsed / count * 1e6


def compare(
    operations: Mapping[str, Operation], count: int, rounds: int = 5
) -> list[tuple[str, float]]:
    """Time every operation in turn, ``rounds`` times; best µs/op of each.

    Rounds interleave the candidates in a shuffled order, so a burst of load
    from elsewhere on a shared machine, or the disk writeback that one
    candidate leaves behind, does not always land on the same neighbour.
    """
    best = dict.fromkeys(operations, float("inf"))
    order = list(operations)
    shuffler = random.Random(0)
    for _ in range(rounds):
        shuffler.shuffle(order)
        for name in order:
            micros = per_op_microseconds(operations[name], count)
            best[name] = min(best[name], micros)
    return list(best.items())


def print_table(title: str, rows: Sequence[tuple[str, float]], baseline: str) -> None:
    """Print ``rows`` of (name, µs/op) with each row's ratio to ``baseline``."""
    reference = dict(rows)[baseline]
    print(f"\n{title}")
    print(f"{'':40} {'µs/op':>10} {'ratio to ' + baseline:>30}")
    for name, micros in rows:
        print(f"{name:40} {micros:10.2f} {micros / reference:>30.2f}")
