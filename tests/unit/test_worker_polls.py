"""The worker loop's looks for rare work (SLA events, timers, sign-in links): at most every interval while jobs keep
the loop busy, and again at once after a look found something."""

from __future__ import annotations

from service.worker import Poller


def _poller(found: list[object | None]) -> tuple[Poller, list[int]]:
    looks: list[int] = []

    def look() -> object | None:
        looks.append(1)
        return found.pop(0)

    return Poller(look, seconds=3600.0), looks


def test_a_look_that_found_nothing_waits_its_interval() -> None:
    poller, looks = _poller([None, "due"])
    assert poller.poll() is None and len(looks) == 1
    assert [poller.poll() for _ in range(5)] == [None] * 5 and len(looks) == 1  # a busy loop's rounds do not look


def test_a_look_that_found_something_looks_again_at_once() -> None:
    poller, looks = _poller(["fired", "fired", None, "due"])
    assert [poller.poll() for _ in range(4)] == ["fired", "fired", None, None]
    assert len(looks) == 3  # two found something, the third nothing: the fourth round waits


def test_an_interval_of_nothing_looks_every_round() -> None:
    looks: list[int] = []
    poller = Poller(lambda: looks.append(1), seconds=0.0)
    for _ in range(3):
        poller.poll()
    assert len(looks) == 3
