"""The client-order-id filter never forgets an id and rarely claims an unseen one."""

from __future__ import annotations

from tradeguard.trading.orders.client_ids import MIN_BITS, ClientIdFilter


def test_every_added_id_is_remembered_and_unseen_ids_are_rarely_claimed() -> None:
    known = ClientIdFilter(20_000)
    added = [(f"account-{n % 50}", f"order-{n}") for n in range(20_000)]
    for account_id, client_order_id in added:
        known.add(account_id, client_order_id)
    assert all(known.may_contain(account, client) for account, client in added)
    unseen = [(f"account-{n % 50}", f"order-{n}") for n in range(20_000, 40_000)]
    claimed = sum(known.may_contain(account, client) for account, client in unseen)
    assert claimed < len(unseen) // 100


def test_the_same_client_id_in_another_account_is_a_different_id() -> None:
    known = ClientIdFilter()
    known.add("alice", "c-1")
    assert known.may_contain("alice", "c-1")
    assert not known.may_contain("bob", "c-1")
    assert not known.may_contain("alice\x00c", "-1")


def test_the_filter_grows_with_the_ids_it_must_hold() -> None:
    assert len(ClientIdFilter(0)._bits) * 8 == MIN_BITS
    assert len(ClientIdFilter(10_000_000)._bits) * 8 >= 10_000_000 * 16
