"""Training schedules in GIZA++'s notation: ``"1^5 H^5 3^3 4^3"``.

Each item is a model name and an iteration count: ``1`` (IBM Model 1), ``2`` (IBM Model 2),
``H`` (HMM), ``3`` and ``4`` (IBM Models 3 and 4). ``1*5`` and ``15`` (one digit of name then the
count, GIZA's ``-m1 5`` spelled short) are accepted as well. Models must come in GIZA's order
(1, 2, H, 3, 4) and a model may appear once.
"""
from __future__ import annotations

import re
from typing import List, Tuple

MODEL_ORDER = "12H34"
MODEL_NAMES = {"1": "Model1", "2": "Model2", "H": "HMM", "3": "Model3", "4": "Model4"}

_ITEM = re.compile(r"^([12345Hh])(?:[\^*x]?(\d+))$")


class ScheduleError(ValueError):
    pass


def parse_schedule(text: str) -> List[Tuple[str, int]]:
    """``"1^5 H^5"`` -> ``[("1", 5), ("H", 5)]``; items with 0 iterations are dropped."""
    items = []
    for token in text.replace(",", " ").split():
        match = _ITEM.match(token)
        if not match:
            raise ScheduleError(f"bad schedule item {token!r} in {text!r}: expected e.g. '1^5', 'H^5', '4^3'")
        name, count = match.group(1).upper(), int(match.group(2))
        if name not in MODEL_ORDER:
            raise ScheduleError(f"model {name!r} in schedule {text!r} is not supported (use 1, 2, H, 3, 4)")
        items.append((name, count))
    names = [n for n, _ in items]
    if len(set(names)) != len(names):
        raise ScheduleError(f"a model appears twice in schedule {text!r}")
    if names != sorted(names, key=MODEL_ORDER.index):
        raise ScheduleError(f"schedule {text!r} is out of order: models train in the order 1, 2, H, 3, 4")
    items = [(n, c) for n, c in items if c > 0]
    if not items:
        raise ScheduleError(f"schedule {text!r} has no iterations")
    return items


def format_schedule(items) -> str:
    return " ".join(f"{n}^{c}" for n, c in items)
