"""Surveillance evidence as a reviewer reads it.

Each rule's ratios against their thresholds, the orders and trades involved, and the
episode's timeline with the prices it traded at.

One function per typology family; each reads only members the detector writes (see the
detectors' ``_alert`` methods) and the parameters stored with the alert.
"""

from __future__ import annotations

from collections.abc import Mapping
from statistics import median
from typing import Any

from tradeguard.cases.presentation import (
    Measure,
    Moment,
    Presentation,
    generic_presentation,
    measured,
    table,
)
from tradeguard.surveillance.parameters import NS

Evidence = Mapping[str, Any]
SPOOF_COLUMNS = {
    "order_id": "Order",
    "account": "Account",
    "side": "Side",
    "qty": "Quantity",
    "filled": "Filled",
    "price": "Price",
    "best_at_placement": "Best on its side when placed",
    "lifetime_seconds": "Lived (s)",
}
CYCLE_COLUMNS = {
    "genuine_order": "Genuine order",
    "genuine_account": "Account",
    "genuine_side": "Side",
    "genuine_filled": "Filled",
    "fill_price": "Fill price",
    "spoof_side_open_at_fill": "Open on the other side at the fill",
    "size_ratio": "Size ratio",
    "cancel_ratio": "Cancelled share",
    "price_levels": "Price levels",
}
TRADE_COLUMNS = {
    "trade_id": "Trade",
    "qty": "Quantity",
    "price": "Price",
    "buyer": "Buyer",
    "seller": "Seller",
    "orders_apart_seconds": "Orders placed apart (s)",
}
FILL_COLUMNS = {
    "role": "Role",
    "account": "Account",
    "order_id": "Order",
    "side": "Side",
    "qty": "Quantity",
    "price": "Price",
}
POSITION_COLUMNS = {
    "account": "Account",
    "bought": "Bought",
    "average_buy": "Average buy",
    "sold": "Sold",
    "average_sell": "Average sell",
}


def present_surveillance(
    typology: str, evidence: Evidence, parameters: Mapping[str, Any]
) -> Presentation:
    """The presentation of one surveillance alert (generic for a typology it does not know)."""
    presenter = {
        "spoofing": _spoofing,
        "layering": _spoofing,
        "wash_trading": _wash,
        "pump_and_dump": _pump,
        "front_running": _front_running,
    }.get(typology)
    if presenter is None:
        return generic_presentation(typology, evidence, parameters)
    return presenter(typology, evidence, parameters)


def _spoofing(typology: str, evidence: Evidence, params: Mapping[str, Any]) -> Presentation:
    cycles: list[dict[str, Any]] = evidence["cycles"]
    orders = [order for cycle in cycles for order in cycle["spoof_orders"]]
    strongest = max((float(cycle["size_ratio"]) for cycle in cycles), default=0.0)
    lifetimes = [float(order["lifetime_seconds"]) for order in orders]
    filled = sum(int(order["filled"]) for order in orders)
    placed = sum(int(order["qty"]) for order in orders)
    lowest_cancel = min(float(cycle["cancel_ratio"]) for cycle in cycles)
    lifetime = median(lifetimes) if lifetimes else None
    fill_share = filled / placed if placed else None
    measures = [
        Measure(
            "Cycles (a genuine fill, orders opposite cancelled)",
            str(len(cycles)),
            f"≥ {params['min_cycles']}, or one cycle of size ratio"
            f" ≥ {params['single_cycle_min_ratio']}",
            len(cycles) >= params["min_cycles"] or strongest >= params["single_cycle_min_ratio"],
        ),
        measured(
            "Largest size ratio (spoof side over genuine order)",
            strongest,
            params["min_size_ratio"],
        ),
        measured("Lowest cancelled share in a cycle", lowest_cancel, params["min_cancel_ratio"]),
        measured(
            "Median life of the cancelled orders (s)",
            lifetime,
            params["max_lifetime_seconds"],
            at_most=True,
        ),
        measured(
            "Filled share of the cancelled orders",
            fill_share,
            params["max_fill_fraction"],
            at_most=True,
        ),
    ]
    if typology == "layering":
        levels = max(int(cycle["price_levels"]) for cycle in cycles)
        measures.append(measured("Price levels layered", levels, params["layering_min_levels"]))
    timeline: list[Moment] = []
    for cycle in cycles:
        timeline.append(
            Moment(
                int(cycle["fill_ts"]),
                f"Genuine {cycle['genuine_side']} order {cycle['genuine_order']} filled "
                f"{cycle['genuine_filled']} at {cycle['fill_price']}",
                cycle["fill_price"],
            )
        )
        timeline.extend(_spoof_moments(cycle["spoof_orders"]))
    side = cycles[0]["genuine_side"] if cycles else "?"
    summary = (
        f"{_title(typology)}: {evidence['cycle_count']} cycle(s) of large orders opposite a "
        f"genuine {side} order, cancelled after it filled"
    )
    return Presentation(
        summary=summary,
        measures=tuple(measures),
        tables=(
            table("Genuine executions", CYCLE_COLUMNS, cycles),
            table("Cancelled orders", SPOOF_COLUMNS, orders),
        ),
        timeline=tuple(timeline),
    )


def _spoof_moments(orders: list[dict[str, Any]]) -> list[Moment]:
    moments = []
    for order in orders:
        placed = int(order["placed"])
        cancelled = placed + round(float(order["lifetime_seconds"]) * NS)
        what = f"{order['side']} {order['qty']} at {order['price']} ({order['order_id']})"
        moments.append(Moment(placed, f"Placed {what}", order["price"]))
        moments.append(Moment(cancelled, f"Cancelled {what}"))
    return moments


def _wash(_typology: str, evidence: Evidence, params: Mapping[str, Any]) -> Presentation:
    trades: list[dict[str, Any]] = evidence["trades"]
    count, volume = int(evidence["trade_count"]), int(evidence["volume"])
    measures = [
        Measure("Trades in the episode", f"{count:,}"),
        Measure("Volume (shares)", f"{volume:,}"),
        measured(
            "Net position change over volume",
            abs(int(evidence["net_position_change"])) / volume if volume else None,
            params["pair_max_net_fraction"],
            at_most=True,
        ),
        measured(
            "Share of trades placed as a matched pair",
            int(evidence["prearranged_trades"]) / count if count else None,
            params["pair_min_prearranged_fraction"],
        ),
    ]
    exclusive = evidence.get("share_of_each_sides_trades")
    if exclusive is not None:
        measures.append(
            measured(
                "Share of each side's trades with the other",
                float(exclusive),
                params["pair_min_exclusive_fraction"],
            )
        )
    timeline = tuple(
        Moment(
            int(trade["ts"]),
            f"{trade['buyer']} bought {trade['qty']} from {trade['seller']} at {trade['price']}",
            trade["price"],
        )
        for trade in trades
    )
    summary = f"Wash trading: {count} trades with no change in beneficial ownership or position"
    return Presentation(
        summary=summary,
        measures=tuple(measures),
        tables=(table("Trades", TRADE_COLUMNS, trades),),
        timeline=timeline,
    )


def _pump(_typology: str, evidence: Evidence, params: Mapping[str, Any]) -> Presentation:
    members: dict[str, dict[str, Any]] = evidence["accounts"]
    baseline = evidence["baseline_volume_per_minute"]
    busiest = float(evidence["busiest_volume_per_minute"])
    measures = [
        Measure("Price before the group's first buy", str(evidence["price_before"] or "—")),
        Measure("Peak price", str(evidence["peak_price"])),
        measured("Price rise to the peak", float(evidence["price_rise"]), params["min_price_rise"]),
        measured(
            "Busiest volume per minute over the baseline",
            busiest / float(baseline) if baseline else None,
            params["min_volume_multiple"],
        ),
        measured(
            "The group's share of buying up to the peak",
            float(evidence["buy_share_to_peak"]),
            params["min_buy_share"],
        ),
    ]
    rows = [{"account": name, **position} for name, position in members.items()]
    timeline = tuple(
        Moment(
            int(position["first_buy"]),
            f"{name} starts buying (bought {position['bought']} at {position['average_buy']} "
            f"on average, sold {position['sold']} at {position['average_sell']})",
            position["average_buy"],
        )
        for name, position in members.items()
    )
    summary = (
        f"Pump and dump: {len(members)} account(s) bought as the price rose from "
        f"{evidence['price_before'] or '—'} to {evidence['peak_price']}, then sold into the rise"
    )
    return Presentation(
        summary=summary,
        measures=tuple(measures),
        tables=(table("Accounts of the group", POSITION_COLUMNS, rows),),
        timeline=timeline,
    )


def _front_running(_typology: str, evidence: Evidence, params: Mapping[str, Any]) -> Presentation:
    ahead, unwound = int(evidence["ahead_qty"]), int(evidence["unwound_qty"])
    client_qty = int(evidence["client_qty"])
    measures = [
        measured("Client order size (shares)", client_qty, params["large_order_min_qty"]),
        Measure("Traded ahead by the firm side (shares)", f"{ahead:,}"),
        measured(
            "Unwound share of the position taken ahead",
            unwound / ahead if ahead else None,
            params["min_unwind_fraction"],
        ),
    ]
    fills: list[dict[str, Any]] = evidence["firm_fills"]
    client = f"client {evidence['client_side']} order {evidence['client_order']}"
    timeline = [
        Moment(int(evidence["client_received"]), f"Received {client} for {client_qty}"),
        *(
            Moment(
                int(fill["ts"]),
                f"{fill['role']}: {fill['account']} {fill['side']} {fill['qty']}"
                f" at {fill['price']}",
                fill["price"],
            )
            for fill in fills
        ),
    ]
    for member, what in (("client_first_fill", "first fill"), ("client_last_fill", "last fill")):
        if evidence.get(member) is not None:
            timeline.append(Moment(int(evidence[member]), f"The {client}: {what}"))
    summary = (
        f"Front-running: the firm side traded {ahead} shares ahead of {client}"
        f" and unwound {unwound}"
    )
    return Presentation(
        summary=summary,
        measures=tuple(measures),
        tables=(table("Firm-side fills", FILL_COLUMNS, fills),),
        timeline=tuple(timeline),
    )


def _title(typology: str) -> str:
    return typology.replace("_", " ").capitalize()
