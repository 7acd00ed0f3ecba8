import itertools
import os
import threading
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradeguard.core.clock import NS_PER_MILLISECOND, FixedClock, SystemClock
from tradeguard.core.ids import (
    RandomPool,
    UUIDv7Generator,
    id_timestamp_ms,
    new_id,
    new_id_text,
)

START = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
START_MS = 1_709_294_400_000


def _zero_bits(_bits: int) -> int:
    return 0


def _all_ones(bits: int) -> int:
    return (1 << bits) - 1


def _counter(value: uuid.UUID) -> int:
    return (value.int >> 64) & 0xFFF


def test_new_id_when_fixed_clock_then_rfc9562_layout() -> None:
    value = new_id(FixedClock(START))
    assert value.version == 7
    assert value.variant == uuid.RFC_4122
    assert (value.int >> 62) & 0b11 == 0b10
    assert value.int >> 80 == START_MS
    assert str(value)[14] == "7"


def test_new_id_when_default_clock_then_timestamp_is_now() -> None:
    before = SystemClock().now_ns() // NS_PER_MILLISECOND
    value = new_id()
    after = SystemClock().now_ns() // NS_PER_MILLISECOND
    assert before <= id_timestamp_ms(value) <= after


def test_new_id_when_same_clock_object_then_ids_increase_within_one_ms() -> None:
    clock = FixedClock(START)
    ids = [new_id(clock) for _ in range(100)]
    assert ids == sorted(ids)
    assert len(set(ids)) == 100
    assert {id_timestamp_ms(value) for value in ids} == {START_MS}


def test_generator_when_counter_seeded_then_increments_by_one() -> None:
    generator = UUIDv7Generator(FixedClock(START), randbits=_zero_bits)
    assert [_counter(generator.new()) for _ in range(3)] == [0, 1, 2]


def test_generator_when_counter_exhausted_then_timestamp_moves_one_ms_ahead() -> None:
    generator = UUIDv7Generator(FixedClock(START), randbits=_all_ones)
    ids = [generator.new() for _ in range(2050)]
    assert _counter(ids[0]) == 2047
    assert _counter(ids[2048]) == 4095
    assert id_timestamp_ms(ids[2048]) == START_MS
    assert id_timestamp_ms(ids[2049]) == START_MS + 1
    assert _counter(ids[2049]) == 0
    assert ids == sorted(ids)


def test_generator_when_clock_steps_back_then_ids_still_increase() -> None:
    clock = FixedClock(START)
    generator = UUIDv7Generator(clock)
    first = generator.new()
    clock.set(START_MS * NS_PER_MILLISECOND - 5 * NS_PER_MILLISECOND)
    second = generator.new()
    assert second > first
    assert id_timestamp_ms(second) == START_MS


def test_generator_when_clock_moves_on_then_timestamp_follows() -> None:
    clock = FixedClock(START)
    generator = UUIDv7Generator(clock)
    generator.new()
    clock.advance(milliseconds=7)
    assert id_timestamp_ms(generator.new()) == START_MS + 7


def test_generator_when_clock_before_epoch_then_value_error() -> None:
    generator = UUIDv7Generator(FixedClock(-NS_PER_MILLISECOND))
    with pytest.raises(ValueError, match="outside the UUIDv7 range"):
        generator.new()


def test_generator_when_random_source_injected_then_low_bits_come_from_it() -> None:
    value = UUIDv7Generator(FixedClock(START), randbits=_all_ones).new()
    assert value.int & ((1 << 62) - 1) == (1 << 62) - 1


def test_generator_when_used_from_threads_then_all_unique_and_ordered_per_thread() -> None:
    generator = UUIDv7Generator(FixedClock(START))
    results: list[list[uuid.UUID]] = [[] for _ in range(4)]

    def work(bucket: list[uuid.UUID]) -> None:
        bucket.extend(generator.new() for _ in range(500))

    threads = [threading.Thread(target=work, args=(bucket,)) for bucket in results]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [value for bucket in results for value in bucket]
    assert len(set(everything)) == 2000
    assert all(bucket == sorted(bucket) for bucket in results)


def test_id_timestamp_ms_when_not_uuid7_then_value_error() -> None:
    with pytest.raises(ValueError, match="not a UUIDv7"):
        id_timestamp_ms(uuid.uuid4())


@given(st.lists(st.integers(min_value=-3, max_value=3), min_size=1, max_size=300))
def test_generator_when_clock_jitters_then_ids_strictly_increase(steps: list[int]) -> None:
    clock = FixedClock(START)
    generator = UUIDv7Generator(clock)
    ids = []
    for step in steps:
        clock.set(clock.now_ns() + step * NS_PER_MILLISECOND)
        ids.append(generator.new())
    assert all(earlier < later for earlier, later in itertools.pairwise(ids))


@given(st.integers(min_value=0, max_value=(1 << 48) - 1))
def test_generator_when_any_valid_time_then_timestamp_field_equals_clock_ms(ms: int) -> None:
    value = UUIDv7Generator(FixedClock(ms * NS_PER_MILLISECOND + 999_999)).new()
    assert value.version == 7
    assert value.variant == uuid.RFC_4122
    assert id_timestamp_ms(value) == ms


def test_new_text_when_drawn_then_same_layout_and_order_as_uuids() -> None:
    generator = UUIDv7Generator(FixedClock(START), randbits=_all_ones)
    texts = [generator.new_text() for _ in range(3)]
    values = [uuid.UUID(text) for text in texts]
    assert texts == [str(value) for value in values]
    assert all(value.version == 7 and value.int >> 80 == START_MS for value in values)
    assert [_counter(value) for value in values] == [2047, 2048, 2049]
    assert all(value.int & ((1 << 62) - 1) == (1 << 62) - 1 for value in values)


def test_new_text_when_interleaved_with_new_then_one_increasing_sequence() -> None:
    clock = FixedClock(START)
    drawn = [str(new_id(clock)) if index % 2 else new_id_text(clock) for index in range(200)]
    assert drawn == sorted(drawn)
    assert len(set(drawn)) == 200


def test_random_pool_when_drawn_past_a_block_then_every_draw_fresh_and_in_range() -> None:
    pool = RandomPool(block_bytes=64)
    draws = [pool.randbits(62) for _ in range(100)]  # 8 draws per block: 13 blocks
    assert all(0 <= draw < 1 << 62 for draw in draws)
    assert len(set(draws)) == 100
    assert pool.randbits(0) == 0


def test_random_pool_when_more_than_64_bits_then_value_error() -> None:
    with pytest.raises(ValueError, match="at most 64"):
        RandomPool().randbits(65)


def test_random_pool_when_forked_then_child_draws_other_bits() -> None:
    pool = RandomPool(block_bytes=4096)
    pool.randbits(62)  # the parent holds a block the child inherits
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        os.write(writer, pool.randbits(62).to_bytes(8, "little"))
        os._exit(0)
    os.close(writer)
    in_child = int.from_bytes(os.read(reader, 8), "little")
    os.close(reader)
    os.waitpid(child, 0)
    assert in_child != pool.randbits(62)


def test_new_id_text_when_system_clock_then_valid_uuid7() -> None:
    value = uuid.UUID(new_id_text())
    assert value.version == 7
    assert value.variant == uuid.RFC_4122
