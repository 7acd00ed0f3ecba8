"""The generated permission matrix: up to date in docs/permissions.md, true to the app."""

from __future__ import annotations

from itertools import takewhile
from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI

from tradeguard import permission_matrix as matrix
from tradeguard.core.permissions import (
    LEVEL_PERMISSIONS,
    ROLE_PERMISSIONS,
    AccessLevel,
    Permission,
    Role,
)
from tradeguard.permission_matrix import (
    REGENERATE,
    UNDECLARED,
    RouteRule,
    render_matrix,
    route_rules,
    routes_app,
)
from tradeguard.web.routing import PUBLIC, require

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"


def table_after(heading: str, text: str) -> list[list[str]]:
    """The rows (cells stripped) of the first table after ``heading``, header first."""
    lines = text.split(heading, 1)[1].splitlines()
    first = next(index for index, line in enumerate(lines) if line.startswith("|"))
    table = list(takewhile(lambda line: line.startswith("|"), lines[first:]))
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in table[:1] + table[2:]]


def granted_by_column(table: list[list[str]]) -> dict[str, set[str]]:
    header, *rows = table
    return {
        column: {row[0].strip("`") for row in rows if row[index] == "✓"}
        for index, column in enumerate(header)
        if index > 0
    }


def test_permissions_document_is_up_to_date() -> None:
    written = DOCUMENT.read_text(encoding="utf-8") if DOCUMENT.exists() else ""

    assert written == render_matrix(), (
        f"docs/permissions.md is stale: regenerate it with `{REGENERATE}` "
        "(run from the repository root with the project's virtualenv)"
    )


def test_route_table_when_built_without_services_then_same_routes_as_the_app(
    app: FastAPI,
) -> None:
    assert route_rules(routes_app()) == route_rules(app)


def test_roles_table_marks_exactly_what_each_role_grants() -> None:
    granted = granted_by_column(table_after("## Roles", render_matrix()))

    assert granted == {
        role.value: {permission.value for permission in ROLE_PERMISSIONS[role]} for role in Role
    }


def test_levels_table_marks_exactly_what_each_level_allows() -> None:
    granted = granted_by_column(table_after("## Access levels", render_matrix()))

    assert list(granted) == ["read-only", "operator", "engineer", "admin"]
    assert granted == {
        level.value: {permission.value for permission in LEVEL_PERMISSIONS[level]}
        for level in AccessLevel
    }


def test_staff_table_when_admin_role_at_read_only_level_then_only_profile() -> None:
    rows = table_after("## Staff", render_matrix())[1:]

    by_role_level = {(row[0], row[1]): row[2] for row in rows}
    assert by_role_level[("ADMIN", "read-only")] == "`profile:manage`"
    assert "`admin:users`" in by_role_level[("ADMIN", "admin")]
    assert ("TRADER", "admin") not in by_role_level


def test_route_rules_when_routes_declare_a_permission_public_or_nothing_then_shown_so() -> None:
    router = APIRouter(prefix="/v1/sample")

    @router.get("/guarded", dependencies=[require(Permission.KYC_REVIEW)])
    def guarded() -> None: ...

    @router.post("/open", dependencies=[PUBLIC])
    def open_route() -> None: ...

    @router.delete("/forgotten")
    def forgotten() -> None: ...

    assert route_rules(routes_app([router])) == [
        RouteRule("/v1/sample/forgotten", "DELETE", (UNDECLARED,)),
        RouteRule("/v1/sample/guarded", "GET", ("kyc:review",)),
        RouteRule("/v1/sample/open", "POST", ("public",)),
    ]


def test_route_rules_when_router_included_with_a_prefix_and_dependency_then_both_apply() -> None:
    inner = APIRouter()

    @inner.get("/items")
    def items() -> None: ...

    outer = FastAPI()
    outer.include_router(inner, prefix="/v1/nested", dependencies=[require(Permission.ORDER_PLACE)])

    assert route_rules(outer) == [RouteRule("/v1/nested/items", "GET", ("order:place",))]


def test_routes_table_lists_admin_routes_with_their_permissions() -> None:
    rows = table_after("## Routes", render_matrix())[1:]

    needs = {(row[0], row[1].strip("`")): row[2] for row in rows}
    assert needs[("GET", "/v1/admin/users")] == "`admin:users`"
    assert needs[("PUT", "/v1/admin/config/{key}")] == "`admin:config`"
    assert needs[("POST", "/v1/auth/login")] == "public"
    assert all(need != UNDECLARED for need in needs.values())


def test_main_prints_the_matrix_as_utf8(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    matrix.main()

    assert capsysbinary.readouterr().out.decode("utf-8") == render_matrix()
