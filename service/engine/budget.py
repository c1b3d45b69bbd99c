"""The CPU and memory budget of one script, condition or expression, and the guards that keep it.

Every loop step (``for``, comprehensions, lambda calls) ticks a meter that looks at this thread's CPU time;
every operation whose result can grow with its operands (``*``, ``**``, ``+``, ``%``, ``<<``, ``str()``, f-strings,
``join``, ``replace``, ``split``, copies, unpacking) is sized *before* it runs and charged to the memory budget, so a
single ``10 ** 10 ** 8`` or ``'x' * 10 ** 9`` is refused without being computed. Small objects made one per step
(dicts, short strings) are counted from the interpreter's allocated blocks when the meter ticks.
"""

from __future__ import annotations

import math
import operator
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence

#: Integers beyond this many bits are refused (about 9,900 decimal digits): big-number arithmetic is one bytecode.
MAX_INT_BITS = 32_768
#: How often (in steps) the meter looks at the clock and the allocated blocks.
CHECK_EVERY = 256
#: Bytes charged per step and per new interpreter block: an estimate of what one step of a loop keeps.
STEP_BYTES = 16
BLOCK_BYTES = 128
#: Bytes charged per item of a list or tuple built by a copy, and per entry of a dict.
ITEM_BYTES = 8
ENTRY_BYTES = 100
#: Largest width or precision a format spec (f-string or ``%``) may ask for.
MAX_FORMAT_WIDTH = 1000


@dataclass(frozen=True)
class ScriptLimits:
    """What one script, condition or expression may use, and how large an instance's data may grow."""

    cpu_seconds: float = 1.0
    memory_bytes: int = 32 * 2**20
    data_bytes: int = 4 * 2**20


class BudgetExceeded(Exception):
    """A script used up its CPU or memory budget (or an instance its data budget); it was stopped."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(detail)


class Meter:
    """The budget of one run: its CPU deadline (this thread's CPU time) and the bytes charged so far."""

    def __init__(self, limits: ScriptLimits) -> None:
        self.limits = limits
        self.deadline = time.thread_time() + limits.cpu_seconds
        #: The interpreter's allocated blocks at the first step: most expressions never loop, and counting the
        #: blocks walks the allocator's arenas (a tenth of a millisecond).
        self.blocks: int | None = None
        self.steps = 0
        self.charged = 0
        self.small = 0  # bytes of small objects made since the start, as last measured

    def tick(self) -> None:
        """One step of a loop or one call of a lambda."""
        self.steps += 1
        if self.blocks is None:
            self.blocks = sys.getallocatedblocks()
        elif self.steps % CHECK_EVERY == 0:
            self.check()

    def check(self) -> None:
        """Stop the run when it is past its CPU time or its memory estimate (measured here, not per operation)."""
        if time.thread_time() > self.deadline:
            raise BudgetExceeded(f"the script used up its CPU budget of {self.limits.cpu_seconds:g} s")
        made = sys.getallocatedblocks() - self.blocks if self.blocks is not None else 0
        self.small = max(0, made) * BLOCK_BYTES + self.steps * STEP_BYTES
        self.charge(0)

    def charge(self, size: int) -> None:
        """Count ``size`` bytes that an operation is about to create; refuse it if the budget would be passed."""
        self.charged += size
        if self.charged + self.small > self.limits.memory_bytes:
            megabytes = self.limits.memory_bytes / 2**20
            raise BudgetExceeded(f"the script used up its memory budget of {megabytes:g} MB")


def text_size(value: Any, meter: Meter) -> int:
    """An upper estimate of ``len(str(value))`` and ``len(repr(value))``, without building the text."""
    sizes: dict[int, int] = {}
    return _text_size(value, sizes, meter.limits.memory_bytes)


def _text_size(value: Any, sizes: dict[int, int], cap: int) -> int:
    if isinstance(value, str):
        return len(value) * (1 if value.isascii() else 10) + 2
    if isinstance(value, bool) or value is None:
        return 5
    if isinstance(value, int):
        return value.bit_length() // 3 + 2
    if isinstance(value, float):
        return 24
    if isinstance(value, (list, tuple, dict, set, frozenset)):
        key = id(value)
        if key in sizes:  # shared or cyclic (a cycle prints as [...]): counted again, never walked again
            return sizes[key]
        sizes[key] = 5
        total = 2
        items: Iterable[Any] = value.items() if isinstance(value, dict) else value
        for item in items:
            total += _text_size(item, sizes, cap) + 2
            if total > cap:
                break
        sizes[key] = total
        return total
    return 100  # a function or a generator: its repr is short


def int_bits(value: Any) -> int:
    """Bits of an int (bools and non-ints count as small)."""
    return value.bit_length() if isinstance(value, int) else 64


def _sequence(value: Any) -> bool:
    return isinstance(value, (str, list, tuple))


def _repeat_size(seq: Any, times: Any) -> int:
    if not isinstance(times, int) or times <= 0:
        return 0
    unit = len(seq) if isinstance(seq, str) else len(seq) * ITEM_BYTES
    return unit * times


def _container_size(value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, (dict, set, frozenset)):
        return len(value) * ENTRY_BYTES
    if isinstance(value, (list, tuple)):
        return len(value) * ITEM_BYTES
    return 0


_FORMAT_NUMBER = re.compile(r"%[#0 +\-]*(\*|\d+)?(?:\.(\*|\d+))?")


def check_percent_format(template: str) -> None:
    """Refuse ``%`` formats that ask for a huge or computed width."""
    for width, precision in _FORMAT_NUMBER.findall(template):
        for number in (width, precision):
            if number == "*" or (number and int(number) > MAX_FORMAT_WIDTH):
                raise BudgetExceeded(f"a '%' format may ask for a width of at most {MAX_FORMAT_WIDTH}")


BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "//": operator.floordiv,
    "%": operator.mod,
    "**": operator.pow,
    "<<": operator.lshift,
    ">>": operator.rshift,
    "|": operator.or_,
    "^": operator.xor,
    "&": operator.and_,
    "@": operator.matmul,
}


def result_size(op: str, left: Any, right: Any, meter: Meter) -> int:
    """The bytes ``left op right`` would create; raises BudgetExceeded for integers past MAX_INT_BITS."""
    if isinstance(left, int) and isinstance(right, int):
        if op == "**" and right > MAX_INT_BITS and abs(left) > 1:
            bits = right
        elif op == "**" and right > 0:
            bits = math.ceil(math.log2(abs(left)) * right) + 1 if abs(left) > 1 else 1
        elif op == "<<" and right > 0:
            bits = int_bits(left) + right
        elif op == "*":
            bits = int_bits(left) + int_bits(right)
        else:
            bits = max(int_bits(left), int_bits(right)) + 1
        if bits > MAX_INT_BITS:
            raise BudgetExceeded(f"the result would be an integer of more than {MAX_INT_BITS} bits")
        return bits // 8
    if op == "*":
        if _sequence(left):
            return _repeat_size(left, right)
        if _sequence(right):
            return _repeat_size(right, left)
    if op in ("+", "|") and not isinstance(left, (int, float)):
        return _container_size(left) + _container_size(right)
    if op == "%" and isinstance(left, str):
        check_percent_format(left)
        return len(left) + text_size(right, meter)
    return 0


class Guards:
    """The names RestrictedPython's compiled code calls, bound to one run's meter."""

    def __init__(self, meter: Meter, getattr_guard: Callable[[Any, str, Meter], Any]) -> None:
        self.meter = meter
        self._getattr_guard = getattr_guard

    def names(self) -> dict[str, Any]:
        """The guard functions by the names the compiled code uses."""
        return {
            "_getattr_": self.getattr,
            "_getitem_": self.getitem,
            "_getiter_": self.getiter,
            "_write_": self.write,
            "_iter_unpack_sequence_": guarded_iter_unpack_sequence,  # both iterate through the `_getiter_` above
            "_unpack_sequence_": guarded_unpack_sequence,
            "_inplacevar_": self.inplace,
            "_apply_": self.apply,
            "_binop_": self.binop,
            "_text_": self.text,
            "_sized_": self.sized,
            "_tick_": self.tick,
        }

    def getattr(self, obj: Any, name: str) -> Any:
        return self._getattr_guard(obj, name, self.meter)

    def getitem(self, obj: Any, key: Any) -> Any:
        if isinstance(key, slice) and isinstance(obj, (str, list, tuple)):
            self.meter.charge(_container_size(obj))
        return obj[key]

    def getiter(self, obj: Any) -> Iterator[Any]:
        tick = self.meter.tick
        for item in obj:
            tick()
            yield item

    def write(self, obj: Any) -> Any:
        if isinstance(obj, dict):
            return obj
        if isinstance(obj, list):
            return _GuardedList(obj, self.meter)
        raise TypeError(f"a script may change only dicts and lists, not {type(obj).__name__}")

    def inplace(self, op: str, left: Any, right: Any) -> Any:
        return self.binop(op[:-1], left, right)

    def binop(self, op: str, left: Any, right: Any) -> Any:
        self.meter.charge(result_size(op, left, right, self.meter))
        return BINARY[op](left, right)

    def apply(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        self.meter.charge((len(args) + len(kwargs)) * ITEM_BYTES)
        return func(*args, **kwargs)

    def text(self, value: Any) -> Any:
        if not isinstance(value, (int, float, str)) or (isinstance(value, str) and not value.isascii()):
            self.meter.charge(text_size(value, self.meter))
        elif isinstance(value, str):
            self.meter.charge(len(value))
        return value

    def sized(self, value: Any) -> Any:
        self.meter.charge(_container_size(value) if hasattr(value, "__len__") else 0)
        return value

    def tick(self) -> None:
        self.meter.tick()


class _GuardedList:
    """What ``_write_`` hands out for a list: item and slice assignment, with slices charged."""

    __slots__ = ("_items", "_meter")

    def __init__(self, items: list[Any], meter: Meter) -> None:
        self._items = items
        self._meter = meter

    def __setitem__(self, key: Any, value: Any) -> None:
        if isinstance(key, slice):
            self._meter.charge(_container_size(value) if hasattr(value, "__len__") else 0)
        self._items[key] = value

    def __delitem__(self, key: Any) -> None:
        del self._items[key]
