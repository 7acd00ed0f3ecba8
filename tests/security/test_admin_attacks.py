"""Attacks on administration: customers and support staff calling admin routes, admins
approving their own changes or raising their own privileges, replayed decisions, ids that
are not users, and tokens used after a suspension or a role change."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from functional.identity_flows import (
    Person,
    assert_refused,
    audit_event_types,
    refresh,
    signed_up_with_totp,
    staff_signed_in,
)
from tradeguard.core.clock import FixedClock
from tradeguard.notify.notifier import MemorySender
from tradeguard.permission_matrix import route_rules

ADMIN_PERMISSIONS = {("admin:users",), ("admin:config",)}
ADMIN_ROUTE_COUNT = 15
SOME_INVITE = "01a1fd70-0000-7000-8000-000000000000"
CHANGE_EVENTS = {
    "admin.user.suspended",
    "admin.user.reactivated",
    "admin.role_change.requested",
    "admin.role_change.approved",
    "admin.role_change.denied",
    "admin.config.changed",
}
ROLE_CHANGE_ROUTE = "/v1/admin/users/{user_id}/role-changes"
BODIES: dict[str, dict[str, Any]] = {
    "/v1/admin/users/{user_id}/suspend": {"reason": "take over the account"},
    "/v1/admin/users/{user_id}/reactivate": {"reason": "take over the account"},
    ROLE_CHANGE_ROUTE: {
        "role": "ADMIN",
        "access_level": "admin",
        "reason": "make me an administrator",
    },
    "/v1/admin/config/{key}": {"value": 1000},
    "/v1/admin/staff/invites": {"email": "eve@example.com", "role": "ADMIN"},
}


@dataclass
class Scene:
    """Two admins, a customer with a pending role change, and the database."""

    ada: Person
    bert: Person
    carol: Person
    carol_id: str
    change_id: str
    engine: Engine


@pytest.fixture
def engine(clean_database) -> Engine:
    return clean_database.engine


def user_id(engine: Engine, username: str) -> str:
    with engine.connect() as connection:
        found = connection.scalar(
            text("SELECT id FROM users WHERE username = :name"), {"name": username}
        )
    assert isinstance(found, str), username
    return found


def request_change(client: TestClient, by: Person, target: str, role: str, level: str) -> Any:
    return client.post(
        f"/v1/admin/users/{target}/role-changes",
        json={"role": role, "access_level": level, "reason": "needs it for the audit"},
        headers=by.headers,
    )


def decide(client: TestClient, by: Person, change_id: str, decision: str) -> Any:
    return client.post(f"/v1/admin/role-changes/{change_id}/{decision}", headers=by.headers)


SignIn = Callable[[str, str | None, str], Person]


@pytest.fixture
def sign_in_as(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, engine: Engine
) -> SignIn:
    def sign_in(role: str, level: str | None, username: str) -> Person:
        return staff_signed_in(
            client, mailbox, clock, engine, role=role, level=level, username=username
        )

    return sign_in


@pytest.fixture
def scene(
    client: TestClient,
    mailbox: MemorySender,
    clock: FixedClock,
    engine: Engine,
    sign_in_as: SignIn,
) -> Scene:
    ada = sign_in_as("ADMIN", "admin", "ada")
    bert = sign_in_as("ADMIN", "admin", "bert")
    carol = signed_up_with_totp(
        client, mailbox, clock, Person(username="carol", email="carol@example.com")
    )
    carol_id = user_id(engine, "carol")
    change = request_change(client, ada, carol_id, "COMPLIANCE", "read-only")
    assert change.status_code == 201, change.text
    return Scene(ada, bert, carol, carol_id, change.json()["id"], engine)


def admin_calls(app: FastAPI, scene: Scene, target: str) -> list[tuple[str, str, Any]]:
    """Every admin route as (method, concrete path, body), aimed at ``target``."""
    values = {
        "user_id": target,
        "change_id": scene.change_id,
        "key": "anomaly_denials",
        "invite_id": SOME_INVITE,
    }
    calls = [
        (rule.method, rule.path.format(**values), BODIES.get(rule.path))
        for rule in route_rules(app)
        if rule.path.startswith("/v1/admin/") and rule.declared in ADMIN_PERMISSIONS
    ]
    assert len(calls) == ADMIN_ROUTE_COUNT
    return calls


def assert_nothing_changed(scene: Scene) -> None:
    with scene.engine.connect() as connection:
        carol = connection.execute(
            text("SELECT status, role FROM users WHERE id = :id"), {"id": scene.carol_id}
        ).one()
        change = connection.scalar(
            text("SELECT status FROM role_changes WHERE id = :id"), {"id": scene.change_id}
        )
        settings = connection.scalar(text("SELECT count(*) FROM runtime_settings"))
        invites = connection.scalar(text("SELECT count(*) FROM staff_invites"))
    assert tuple(carol) == ("active", "TRADER")
    assert change == "requested"
    assert (settings, invites) == (0, 0)
    changes = [kind for kind in audit_event_types(scene.engine) if kind in CHANGE_EVENTS]
    assert changes == ["admin.role_change.requested"]  # the fixture's own request


@pytest.mark.parametrize("caller", [("TRADER", None), ("SUPPORT", "admin")])
def test_admin_routes_when_called_by_a_trader_or_support_agent_then_403_and_nothing_changes(
    client: TestClient,
    app: FastAPI,
    scene: Scene,
    sign_in_as: SignIn,
    caller: tuple[str, str | None],
) -> None:
    role, level = caller
    mallory = sign_in_as(role, level, "mallory")

    for target in (scene.carol_id, user_id(scene.engine, "mallory")):
        for method, path, body in admin_calls(app, scene, target):
            response = client.request(method, path, json=body, headers=mallory.headers)
            assert_refused(response, 403, "ACCESS_DENIED")

    assert_nothing_changed(scene)
    me = client.get("/v1/me", headers=mallory.headers).json()
    assert (me["role"], "admin:users" in me["permissions"]) == (role, False)


def test_admin_routes_when_no_token_then_401(
    client: TestClient, app: FastAPI, scene: Scene
) -> None:
    for method, path, body in admin_calls(app, scene, scene.carol_id):
        assert_refused(client.request(method, path, json=body), 401, "AUTH_REQUIRED")
    assert_nothing_changed(scene)


def test_role_change_when_the_requester_approves_it_then_refused(
    client: TestClient, scene: Scene
) -> None:
    refused = decide(client, scene.ada, scene.change_id, "approve")
    refused_deny = decide(client, scene.ada, scene.change_id, "deny")

    assert_refused(refused, 403, "ADMIN_SELF_APPROVAL")
    assert_refused(refused_deny, 403, "ADMIN_SELF_APPROVAL")
    assert_nothing_changed(scene)


def test_role_change_when_an_admin_changes_themselves_then_a_second_admin_must_approve(
    client: TestClient, scene: Scene
) -> None:
    ada_id, bert_id = user_id(scene.engine, "ada"), user_id(scene.engine, "bert")
    own = request_change(client, scene.ada, ada_id, "COMPLIANCE", "admin")
    about_bert = request_change(client, scene.ada, bert_id, "COMPLIANCE", "admin")
    assert own.status_code == 201, own.text

    by_herself = decide(client, scene.ada, own.json()["id"], "approve")
    by_bert_about_himself = decide(client, scene.bert, about_bert.json()["id"], "approve")
    by_bert = decide(client, scene.bert, own.json()["id"], "approve")

    assert_refused(by_herself, 403, "ADMIN_SELF_APPROVAL")
    assert_refused(by_bert_about_himself, 403, "ADMIN_SELF_APPROVAL")
    assert by_bert.status_code == 200, by_bert.text
    assert_refused(client.get("/v1/me", headers=scene.ada.headers), 401, "AUTH_TOKEN_STALE")
    with scene.engine.connect() as connection:
        roles = dict(connection.execute(text("SELECT username, role FROM users")).all())
    assert (roles["ada"], roles["bert"]) == ("COMPLIANCE", "ADMIN")


def test_role_change_when_an_engineer_level_admin_asks_for_more_then_access_denied(
    client: TestClient, scene: Scene, sign_in_as: SignIn
) -> None:
    eve = sign_in_as("ADMIN", "engineer", "eve")

    escalation = request_change(client, eve, user_id(scene.engine, "eve"), "ADMIN", "admin")
    approval = decide(client, eve, scene.change_id, "approve")

    assert_refused(escalation, 403, "ACCESS_DENIED")
    assert_refused(approval, 403, "ACCESS_DENIED")
    assert_nothing_changed(scene)


def test_role_change_when_already_decided_then_a_replayed_decision_is_refused(
    client: TestClient, scene: Scene
) -> None:
    assert decide(client, scene.bert, scene.change_id, "deny").status_code == 200

    again = decide(client, scene.bert, scene.change_id, "approve")

    assert_refused(again, 409, "ADMIN_ROLE_CHANGE_DECIDED")
    assert "admin.role_change.approved" not in audit_event_types(scene.engine)


@pytest.mark.parametrize(
    "bad_id",
    [
        str(uuid.uuid4()),
        "01a1fd70-0000-7000-8000-000000000000",
        "not-a-user",
        "..%2F..%2Fetc",
        "x" * 64,
        "' OR '1'='1",
    ],
)
def test_admin_routes_when_the_id_names_no_user_or_change_then_404(
    client: TestClient, scene: Scene, bad_id: str
) -> None:
    reason = {"reason": "looking around"}
    calls = [
        ("GET", f"/v1/admin/users/{bad_id}", None),
        ("GET", f"/v1/admin/users/{bad_id}/audit", None),
        ("POST", f"/v1/admin/users/{bad_id}/suspend", reason),
        ("POST", f"/v1/admin/users/{bad_id}/reactivate", reason),
        ("POST", f"/v1/admin/users/{bad_id}/role-changes", BODIES[ROLE_CHANGE_ROUTE]),
        ("POST", f"/v1/admin/role-changes/{bad_id}/approve", None),
        ("POST", f"/v1/admin/role-changes/{bad_id}/deny", None),
    ]

    for method, path, body in calls:
        response = client.request(method, path, json=body, headers=scene.bert.headers)
        assert_refused(response, 404, "NOT_FOUND")

    assert_nothing_changed(scene)


def test_suspension_when_an_admin_is_suspended_then_their_token_fails_on_the_next_request(
    client: TestClient, scene: Scene
) -> None:
    ada_id = user_id(scene.engine, "ada")

    suspended = client.post(
        f"/v1/admin/users/{ada_id}/suspend",
        json={"reason": "lost laptop"},
        headers=scene.bert.headers,
    )

    assert suspended.status_code == 200, suspended.text
    assert_refused(decide(client, scene.ada, scene.change_id, "deny"), 401, "AUTH_SESSION_REVOKED")
    assert_refused(refresh(client, scene.ada.tokens["refresh_token"]), 401, "AUTH_SESSION_REVOKED")


def test_suspension_when_an_admin_suspends_themselves_then_refused(
    client: TestClient, scene: Scene
) -> None:
    ada_id = user_id(scene.engine, "ada")

    refused = client.post(
        f"/v1/admin/users/{ada_id}/suspend", json={"reason": "oops"}, headers=scene.ada.headers
    )

    assert_refused(refused, 403, "ADMIN_SELF_SUSPENSION")
    assert client.get("/v1/admin/users", headers=scene.ada.headers).status_code == 200


def test_role_change_when_an_admin_is_demoted_then_unexpired_token_is_stale_and_refresh_drops_it(
    client: TestClient, scene: Scene, sign_in_as: SignIn
) -> None:
    cyril = sign_in_as("ADMIN", "admin", "cyril")
    demotion = request_change(
        client, scene.ada, user_id(scene.engine, "bert"), "ADMIN", "read-only"
    )
    assert decide(client, cyril, demotion.json()["id"], "approve").status_code == 200

    stale = client.get("/v1/admin/users", headers=scene.bert.headers)
    renewed = refresh(client, scene.bert.tokens["refresh_token"])
    scene.bert.tokens = renewed.json()
    after = client.get("/v1/admin/users", headers=scene.bert.headers)

    assert_refused(stale, 401, "AUTH_TOKEN_STALE")
    assert renewed.status_code == 200, renewed.text
    assert_refused(after, 403, "ACCESS_DENIED")
    assert_refused(decide(client, scene.bert, scene.change_id, "approve"), 403, "ACCESS_DENIED")


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"q": "%"}, 200),
        ({"q": "_____"}, 200),
        ({"q": "%@%"}, 200),
        ({"q": "car\x00ol"}, 422),
        ({"q": "a" * 255}, 422),
        ({"role": "SUPERUSER"}, 422),
        ({"status": "deleted"}, 422),
        ({"after": "' OR 1=1 --"}, 422),
        ({"limit": 100000}, 422),
        ({"unknown": "1"}, 422),
    ],
)
def test_user_search_when_wildcards_or_junk_then_no_match_and_no_error(
    client: TestClient, scene: Scene, params: dict[str, Any], status: int
) -> None:
    response = client.get("/v1/admin/users", params=params, headers=scene.bert.headers)

    assert response.status_code == status, response.text
    if status == 200:
        assert response.json()["users"] == []
