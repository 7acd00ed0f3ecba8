"""The commit queue: who leads a batch, what goes in it, and when requests are answered."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from tradeguard.audit.records import Actor
from tradeguard.trading.orders.group_commit import Batch, CommitQueue, Pending, Wake

ACTOR = Actor.system("test")
WAIT = 5.0


def pending(name: str) -> Pending[object]:
    return Pending(ACTOR, name, lambda _booking: name)


def answering(record: list[list[str | None]]) -> Callable[[Batch], None]:
    """A commit that notes each batch's request ids and answers each with its work."""

    def commit(batch: Batch) -> None:
        record.append([item.request_id for item in batch])
        for item in batch:
            item.result = item.work(None)  # type: ignore[arg-type]
            item.finish()

    return commit


class Blocker:
    """Holds the batch led by request ``first`` until released, so others queue behind it."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()

    def hold(self, batch: Batch) -> bool:
        """Wait inside the ``first`` batch; whether this was it."""
        if batch[0].request_id != "first":
            return False
        self.started.set()
        self.release.wait(WAIT)
        return True


def queue_behind(
    queue: CommitQueue, blocker: Blocker, send: Callable[[str], object], names: tuple[str, ...]
) -> list[threading.Thread]:
    """Start ``first``, then each of ``names`` in turn once the one before is queued."""
    threads = [threading.Thread(target=send, args=("first",))]
    threads[0].start()
    assert blocker.started.wait(WAIT)
    for index, name in enumerate(names):
        thread = threading.Thread(target=send, args=(name,))
        thread.start()
        wait_until(lambda count=index + 1: queue.waiting == count)
        threads.append(thread)
    return threads


def wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_a_lone_request_leads_its_own_batch_on_its_own_thread() -> None:
    queue = CommitQueue(max_batch=8)
    threads: list[threading.Thread] = []

    def commit(batch: Batch) -> None:
        threads.append(threading.current_thread())
        answering([])(batch)

    assert queue.submit(pending("a"), commit) == "a"
    assert threads == [threading.current_thread()]
    assert queue.batches == 1


def test_requests_arriving_during_a_commit_go_together_in_the_next_batch_in_order() -> None:
    queue = CommitQueue(max_batch=8)
    batches: list[list[str | None]] = []
    blocker = Blocker()
    answered: dict[str, object] = {}

    def commit(batch: Batch) -> None:
        blocker.hold(batch)
        answering(batches)(batch)

    def send(name: str) -> None:
        answered[name] = queue.submit(pending(name), commit)

    threads = queue_behind(queue, blocker, send, ("b", "c", "d"))
    assert answered == {}  # nothing is answered before its batch committed
    blocker.release.set()
    for thread in threads:
        thread.join(WAIT)
    assert batches == [["first"], ["b", "c", "d"]]
    assert answered == {"first": "first", "b": "b", "c": "c", "d": "d"}


def test_a_batch_never_holds_more_than_max_batch_requests() -> None:
    queue = CommitQueue(max_batch=2)
    batches: list[list[str | None]] = []
    blocker = Blocker()

    def commit(batch: Batch) -> None:
        blocker.hold(batch)
        answering(batches)(batch)

    def send(name: str) -> object:
        return queue.submit(pending(name), commit)

    threads = queue_behind(queue, blocker, send, ("b", "c", "d", "e", "f"))
    blocker.release.set()
    for thread in threads:
        thread.join(WAIT)
    assert batches == [["first"], ["b", "c"], ["d", "e"], ["f"]]


def test_a_commit_that_raises_answers_every_request_of_its_batch_with_the_error() -> None:
    queue = CommitQueue(max_batch=8)
    blocker = Blocker()
    outcomes: dict[str, Any] = {}

    def commit(batch: Batch) -> None:
        if blocker.hold(batch):
            answering([])(batch)
            return
        raise OSError("the disk is gone")

    def send(name: str) -> None:
        try:
            outcomes[name] = queue.submit(pending(name), commit)
        except OSError as error:
            outcomes[name] = error

    threads = queue_behind(queue, blocker, send, ("b", "c"))
    blocker.release.set()
    for thread in threads:
        thread.join(WAIT)
    assert outcomes["first"] == "first"
    assert all(isinstance(outcomes[name], OSError) for name in ("b", "c"))
    assert queue.submit(pending("after"), answering([])) == "after"  # the queue goes on


def test_under_load_a_leader_waits_at_most_max_wait_for_the_batch_to_fill() -> None:
    queue = CommitQueue(max_batch=64, max_wait_seconds=0.05)
    sizes: list[int] = []

    def commit(batch: Batch) -> None:
        sizes.append(len(batch))
        answering([])(batch)

    started = time.monotonic()
    queue.submit(pending("alone"), commit)
    assert time.monotonic() - started < 0.05  # a lone request at low load never waits
    assert sizes == [1]


@pytest.mark.parametrize("size", [0, -1])
def test_refuses_a_batch_size_below_one(size: int) -> None:
    with pytest.raises(ValueError, match="max_batch"):
        CommitQueue(max_batch=size)


def test_a_wake_up_set_before_the_wait_is_not_lost_and_a_second_set_is_harmless() -> None:
    wake = Wake()
    wake.set()
    wake.set()

    woke = threading.Thread(target=wake.wait)
    woke.start()
    woke.join(WAIT)

    assert not woke.is_alive()


def test_a_cleared_wake_up_holds_its_thread_until_set_again() -> None:
    wake = Wake()
    wake.set()
    wake.clear()
    waiter = threading.Thread(target=wake.wait, daemon=True)
    waiter.start()

    waiter.join(0.2)
    assert waiter.is_alive()
    wake.set()
    waiter.join(WAIT)
    assert not waiter.is_alive()


class Answers:
    """What ``on_done`` received for each request queued for later, and on which thread."""

    def __init__(self) -> None:
        self.by_name: dict[str, Any] = {}
        self.threads: set[str] = set()
        self.all_in = threading.Event()
        self.expected = 0

    def later(self, name: str) -> Pending[object]:
        self.expected += 1
        return Pending(ACTOR, name, lambda _booking: name, on_done=self.done)

    def done(self, answered: Pending[object]) -> None:
        self.threads.add(threading.current_thread().name)
        try:
            self.by_name[str(answered.request_id)] = answered.answer()
        except OSError as error:
            self.by_name[str(answered.request_id)] = error
        if len(self.by_name) == self.expected:
            self.all_in.set()


def test_requests_queued_for_later_are_answered_by_the_sequencer_after_their_batch() -> None:
    queue = CommitQueue(max_batch=8)
    batches: list[list[str | None]] = []
    blocker = Blocker()
    answers = Answers()

    def commit(batch: Batch) -> None:
        blocker.hold(batch)
        answering(batches)(batch)

    queue.submit_later(answers.later("first"), commit)
    assert blocker.started.wait(WAIT)
    for name in ("b", "c", "d"):
        queue.submit_later(answers.later(name), commit)  # returns at once: nothing waits
    assert answers.by_name == {}  # nothing is answered before its batch committed
    blocker.release.set()

    assert answers.all_in.wait(WAIT)
    assert batches == [["first"], ["b", "c", "d"]]
    assert answers.by_name == {"first": "first", "b": "b", "c": "c", "d": "d"}
    assert answers.threads == {"desk-sequencer"}


def test_a_waiting_request_and_later_ones_share_a_batch_whoever_is_first() -> None:
    queue = CommitQueue(max_batch=8)
    batches: list[list[str | None]] = []
    blocker = Blocker()
    answers = Answers()
    waited: dict[str, object] = {}

    def commit(batch: Batch) -> None:
        blocker.hold(batch)
        answering(batches)(batch)

    def send(name: str) -> None:
        waited[name] = queue.submit(pending(name), commit)

    threads = queue_behind(queue, blocker, send, ("waits",))
    queue.submit_later(answers.later("later"), commit)
    blocker.release.set()
    for thread in threads:
        thread.join(WAIT)

    assert answers.all_in.wait(WAIT)
    assert batches == [["first"], ["waits", "later"]]
    assert waited == {"first": "first", "waits": "waits"}
    assert answers.by_name == {"later": "later"}


def test_a_failed_batch_of_later_requests_answers_each_with_the_error_and_goes_on() -> None:
    queue = CommitQueue(max_batch=8)
    answers = Answers()
    blocker = Blocker()

    def commit(batch: Batch) -> None:
        if blocker.hold(batch):
            answering([])(batch)
            return
        raise OSError("the disk is gone")

    queue.submit_later(answers.later("first"), commit)
    assert blocker.started.wait(WAIT)
    queue.submit_later(answers.later("b"), commit)
    queue.submit_later(answers.later("c"), commit)
    blocker.release.set()

    assert answers.all_in.wait(WAIT)
    assert answers.by_name["first"] == "first"
    assert all(isinstance(answers.by_name[name], OSError) for name in ("b", "c"))
    assert queue.submit(pending("after"), answering([])) == "after"  # the queue goes on


def test_an_answer_callback_that_raises_leaves_the_rest_of_its_batch_answered() -> None:
    queue = CommitQueue(max_batch=8)
    answers = Answers()
    blocker = Blocker()

    def broken(_answered: Pending[object]) -> None:
        raise RuntimeError("the worker went away")

    def commit(batch: Batch) -> None:
        blocker.hold(batch)
        answering([])(batch)

    queue.submit_later(answers.later("first"), commit)
    assert blocker.started.wait(WAIT)
    queue.submit_later(Pending(ACTOR, "lost", lambda _booking: "lost", on_done=broken), commit)
    queue.submit_later(answers.later("kept"), commit)
    blocker.release.set()

    assert answers.all_in.wait(WAIT)
    assert answers.by_name == {"first": "first", "kept": "kept"}


def test_a_request_queued_for_later_without_a_callback_is_refused() -> None:
    with pytest.raises(ValueError, match="on_done"):
        CommitQueue(max_batch=8).submit_later(pending("nobody"), answering([]))
