"""Routes of administration: users, suspension, two-admin role changes, run-time settings.

Everything here needs ``admin:users`` except the run-time settings, which need
``admin:config``. Ids that name no user or role change answer 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, status

from tradeguard.access.admin import (
    Administration,
    RoleRequest,
    RuntimeConfiguration,
    RuntimeValue,
    UserDetail,
    UserFilter,
    UserSummary,
    summary_of,
)
from tradeguard.access.admin_schemas import (
    AuditPageQuery,
    FactorOut,
    ReasonRequest,
    RoleChangeOut,
    RoleChangeRequest,
    RoleChangeSearch,
    RoleChangesPage,
    SettingOut,
    SettingRequest,
    UserDetailOut,
    UserOut,
    UserSearch,
    UsersPage,
)
from tradeguard.access.caller import Caller
from tradeguard.access.models import RoleChange
from tradeguard.access.runtime_settings import runtime_keys
from tradeguard.audit.schemas import AuditEventOut, AuditEventsPage
from tradeguard.core.clock import ns_to_rfc3339
from tradeguard.core.permissions import Permission, permissions_of
from tradeguard.core.principal import Principal
from tradeguard.db.session import DbSession
from tradeguard.identity.models import Factor
from tradeguard.identity.sessions import ACTIVE, SUSPENDED
from tradeguard.web.provide import provided
from tradeguard.web.routing import require

AdminUsers = Annotated[Principal, require(Permission.ADMIN_USERS)]
AdminConfig = Annotated[Principal, require(Permission.ADMIN_CONFIG)]
ObjectId = Annotated[str, Path(min_length=1, max_length=64)]
PROBLEMS: dict[int | str, dict[str, str]] = {
    401: {"description": "No valid access token (problem+json, AUTH_*)"},
    403: {"description": "The permission is missing (problem+json, ACCESS_DENIED)"},
    404: {"description": "No such object (problem+json, NOT_FOUND)"},
    409: {"description": "Unchanged, pending or already decided (problem+json, ADMIN_*)"},
}

router = APIRouter(prefix="/v1/admin", tags=["administration"], responses=PROBLEMS)


AdministrationDep = Annotated[Administration, provided(Administration)]
RuntimeConfigurationDep = Annotated[RuntimeConfiguration, provided(RuntimeConfiguration)]


def user_out(user: UserSummary) -> UserOut:
    """A listed user as the API shows them."""
    return UserOut(
        id=user.id,
        username=user.username,
        role=user.role,
        access_level=user.access_level,
        status=user.status,
        created_at=ns_to_rfc3339(user.created_at_ns),
    )


def user_detail_out(detail: UserDetail) -> UserDetailOut:
    """One user's administrative view as the API shows it."""
    user, pending = detail.user, detail.pending_role_change
    return UserDetailOut(
        **user_out(summary_of(user)).model_dump(),
        email=user.email,
        email_verified=user.email_verified_at_ns is not None,
        permissions=list(permissions_of(user.role, user.access_level)),
        permission_version=user.permission_version,
        ip_allowlist_set=bool(user.ip_allowlist),
        factors=[factor_out(factor) for factor in detail.factors],
        live_sessions=detail.live_sessions,
        pending_role_change=None if pending is None else role_change_out(pending),
    )


def factor_out(factor: Factor) -> FactorOut:
    """A factor without its secret."""
    used = factor.last_used_at_ns
    return FactorOut(
        kind=factor.kind,
        name=factor.name,
        authenticator=factor.authenticator,
        created_at=ns_to_rfc3339(factor.created_at_ns),
        last_used_at=None if used is None else ns_to_rfc3339(used),
    )


def role_change_out(change: RoleChange) -> RoleChangeOut:
    """A role change as the API shows it."""
    decided = change.decided_at_ns
    return RoleChangeOut(
        id=change.id,
        user_id=change.user_id,
        role=change.role,
        access_level=change.access_level,
        reason=change.reason,
        status=change.status,
        requested_by=change.requested_by,
        requested_at=ns_to_rfc3339(change.requested_at_ns),
        decided_by=change.decided_by,
        decided_at=None if decided is None else ns_to_rfc3339(decided),
    )


def setting_out(setting: RuntimeValue) -> SettingOut:
    """A run-time setting as the API shows it."""
    updated = setting.updated_at_ns
    return SettingOut(
        key=setting.key.name,
        value=setting.value,
        default=setting.default,
        minimum=setting.key.minimum,
        maximum=setting.key.maximum,
        description=setting.key.description,
        updated_at=None if updated is None else ns_to_rfc3339(updated),
        updated_by=setting.updated_by,
    )


@router.get("/users", summary="List or search users")
def list_users(
    filters: Annotated[UserSearch, Query()],
    admin: AdminUsers,
    request: Request,
    db: DbSession,
    administration: AdministrationDep,
) -> UsersPage:
    """Users by username prefix or exact email address, status and role, in pages."""
    wanted = UserFilter(
        query=filters.q,
        status=filters.status,
        role=None if filters.role is None else filters.role.value,
        after=filters.after,
        limit=filters.limit,
    )
    page = administration.search_users(db, Caller.of(admin, request), wanted)
    return UsersPage(users=[user_out(user) for user in page.users], next_after=page.next_after)


@router.get("/users/{user_id}", summary="One user, as administrators see them")
def read_user(
    user_id: ObjectId,
    admin: AdminUsers,
    request: Request,
    db: DbSession,
    administration: AdministrationDep,
) -> UserDetailOut:
    """The account, its factors (no secrets), live sessions and any pending role change."""
    return user_detail_out(administration.user_detail(db, Caller.of(admin, request), user_id))


@router.post("/users/{user_id}/suspend", summary="Suspend an account (ends every session)")
def suspend_user(
    user_id: ObjectId,
    body: ReasonRequest,
    admin: AdminUsers,
    request: Request,
    db: DbSession,
    administration: AdministrationDep,
) -> UserDetailOut:
    """Suspend the account: its sessions end and its tokens are refused at once."""
    caller = Caller.of(admin, request)
    administration.set_status(db, caller, user_id, SUSPENDED, body.reason)
    return user_detail_out(administration.user_detail(db, caller, user_id))


@router.post("/users/{user_id}/reactivate", summary="Reactivate a suspended account")
def reactivate_user(
    user_id: ObjectId,
    body: ReasonRequest,
    admin: AdminUsers,
    request: Request,
    db: DbSession,
    administration: AdministrationDep,
) -> UserDetailOut:
    """Let the account sign in again (its old sessions stay ended)."""
    caller = Caller.of(admin, request)
    administration.set_status(db, caller, user_id, ACTIVE, body.reason)
    return user_detail_out(administration.user_detail(db, caller, user_id))


@router.post(
    "/users/{user_id}/role-changes",
    status_code=status.HTTP_201_CREATED,
    summary="Request a change of role (another administrator approves it)",
)
def request_role_change(
    user_id: ObjectId,
    body: RoleChangeRequest,
    admin: AdminUsers,
    request: Request,
    db: DbSession,
    administration: AdministrationDep,
) -> RoleChangeOut:
    """Record the requested role and access level; nothing changes until approval."""
    wanted = RoleRequest(body.role, body.access_level, body.reason)
    change = administration.request_role_change(db, Caller.of(admin, request), user_id, wanted)
    return role_change_out(change)


@router.get("/role-changes", summary="List role changes")
def list_role_changes(
    filters: Annotated[RoleChangeSearch, Query()],
    admin: AdminUsers,  # noqa: ARG001 - declares the permission
    db: DbSession,
    administration: AdministrationDep,
) -> RoleChangesPage:
    """Role changes, optionally of one status, in pages."""
    changes, next_after = administration.role_changes(
        db, filters.status, filters.after, filters.limit
    )
    return RoleChangesPage(
        role_changes=[role_change_out(change) for change in changes], next_after=next_after
    )


@router.post("/role-changes/{change_id}/approve", summary="Approve and apply a role change")
def approve_role_change(
    change_id: ObjectId,
    admin: AdminUsers,
    request: Request,
    db: DbSession,
    administration: AdministrationDep,
) -> RoleChangeOut:
    """Apply the change; the user's unexpired tokens are refused on their next request."""
    change = administration.decide_role_change(
        db, Caller.of(admin, request), change_id, approve=True
    )
    return role_change_out(change)


@router.post("/role-changes/{change_id}/deny", summary="Deny a role change")
def deny_role_change(
    change_id: ObjectId,
    admin: AdminUsers,
    request: Request,
    db: DbSession,
    administration: AdministrationDep,
) -> RoleChangeOut:
    """Close the request without changing anything."""
    change = administration.decide_role_change(
        db, Caller.of(admin, request), change_id, approve=False
    )
    return role_change_out(change)


@router.get("/users/{user_id}/audit", summary="A user's audit history")
def user_audit_history(
    user_id: ObjectId,
    page: Annotated[AuditPageQuery, Query()],
    admin: AdminUsers,
    request: Request,
    db: DbSession,
    administration: AdministrationDep,
) -> AuditEventsPage:
    """The audit events about the user, oldest first; pass ``next_after_seq`` for more."""
    found = administration.audit_history(
        db, Caller.of(admin, request), user_id, page.after_seq, page.limit
    )
    return AuditEventsPage(
        events=[AuditEventOut.model_validate(event.to_json()) for event in found.events],
        next_after_seq=found.next_after_seq,
    )


@router.get("/config", summary="Run-time settings")
def read_config(
    admin: AdminConfig,  # noqa: ARG001 - declares the permission
    db: DbSession,
    configuration: RuntimeConfigurationDep,
) -> list[SettingOut]:
    """Every setting that may change at run time, with its value, default and range."""
    return [setting_out(value) for value in configuration.values(db, runtime_keys())]


@router.put("/config/{key}", summary="Change a run-time setting")
def change_config(
    key: Annotated[str, Path(min_length=1, max_length=64)],
    body: SettingRequest,
    admin: AdminConfig,
    request: Request,
    db: DbSession,
    configuration: RuntimeConfigurationDep,
) -> SettingOut:
    """Set the value (within its range); audited with the values before and after."""
    return setting_out(configuration.change(db, Caller.of(admin, request), key, body.value))
