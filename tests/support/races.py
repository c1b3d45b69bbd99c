"""Forcing two requests into the interleaving a race needs, instead of hoping the scheduler finds it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

READS = ("SELECT", "WITH")


def writes_or_locks(statement: str) -> bool:
    """True for a statement that takes a lock: a write, `SELECT ... FOR UPDATE`, an advisory lock, SQLite's BEGIN."""
    text = statement.lstrip().upper()
    if not text.startswith(READS):
        return True
    return "FOR UPDATE" in text or "PG_ADVISORY" in text


class Meeting:
    """Holds each party's thread just before its first statement that writes or locks, until every party is there.

    So each party has done its unlocked reads (the checks a racing request makes) before any of them takes a lock:
    the interleaving that lets two requests both believe they won, when nothing serialises them. Released together,
    they show a missing lock; released `in_turn` (each once the one before has finished), they show a check made
    before the lock and not again after it.
    """

    def __init__(self, engine: Engine, parties: int, *, in_turn: bool = False, timeout: float = 10.0) -> None:
        self.engine = engine
        self.in_turn = in_turn
        self.timeout = timeout
        self.barrier = threading.Barrier(parties, timeout=timeout)
        self._finished = [threading.Event() for _ in range(parties)]
        self._waiting: dict[int, int] = {}  # thread -> party index, until it has met the others
        self._lock = threading.Lock()

    def _before(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        me = threading.get_ident()
        with self._lock:
            if me not in self._waiting or not writes_or_locks(statement):
                return
            index = self._waiting.pop(me)
        try:
            self.barrier.wait()
        except threading.BrokenBarrierError:
            pass  # a party ended without writing (a refusal): the others go on
        if self.in_turn and index > 0:
            # Party n goes on only once party n-1 has finished: it acts on what it read before the other changed it.
            self._finished[index - 1].wait(self.timeout)

    @contextmanager
    def party(self, index: int) -> Iterator[None]:
        """Run the body as party `index`: it stops at the meeting once (and, in turn, waits for the party before)."""
        me = threading.get_ident()
        with self._lock:
            self._waiting[me] = index
        try:
            yield
        finally:
            with self._lock:
                missed = self._waiting.pop(me, None) is not None
            if missed:
                self.barrier.abort()
            self._finished[index].set()

    def __enter__(self) -> Meeting:
        event.listen(self.engine, "before_cursor_execute", self._before)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)


def run_parties(meeting: Meeting, calls: list[Callable[[], Any]], *, timeout: float = 60.0) -> list[Any]:
    """Run each call in its own thread as one party of the meeting (its index in `calls`); their results (or
    exceptions) in order."""
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        with meeting.party(index):
            try:
                results[index] = call()
            except Exception as error:  # noqa: BLE001 - handed back to the test to assert on
                results[index] = error

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
        assert not thread.is_alive(), "a party is still running: a lock is never released"
    return results
