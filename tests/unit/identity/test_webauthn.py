"""WebAuthn ceremonies: options, registration, assertions, counters and hostile input."""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from soft_webauthn import SoftWebauthnDevice
from webauthn_authenticator import (
    EDDSA,
    AuthenticatorRefusedError,
    SoftAuthenticator,
    b64url,
    from_b64url,
)

from tradeguard.core.errors import ConfigurationError, TradeGuardError
from tradeguard.identity.mfa.webauthn import (
    AuthenticationResult,
    AuthenticatorKind,
    RelyingParty,
    StoredCredential,
    WebAuthnError,
    WebAuthnReason,
    authentication_options,
    credential_id_from,
    registration_options,
    user_handle_from,
    verify_authentication,
    verify_registration,
)

RP_ID = "broker.example"
ORIGIN = "https://broker.example"
APP_ORIGIN = "https://app.broker.example"
RP = RelyingParty(RP_ID, "Example Brokerage", (ORIGIN, APP_ORIGIN))
USER_HANDLE = b"\x01" * 32
OTHER_HANDLE = b"\x02" * 32


def _register(
    authenticator: SoftAuthenticator,
    *,
    kind: AuthenticatorKind = AuthenticatorKind.ANY,
    exclude: tuple[StoredCredential, ...] = (),
    resident_key: bool = True,
    user_handle: bytes = USER_HANDLE,
) -> StoredCredential:
    options, challenge = registration_options(
        RP,
        user_handle=user_handle,
        user_name="alice@broker.example",
        display_name="Alice Trader",
        kind=kind,
        exclude=exclude,
        resident_key=resident_key,
    )
    answer = authenticator.create(options)
    return verify_registration(
        RP, credential=answer, expected_challenge=challenge, user_handle=user_handle
    )


def _assertion(
    authenticator: SoftAuthenticator, allow: tuple[StoredCredential, ...] = ()
) -> tuple[dict[str, Any], bytes]:
    options, challenge = authentication_options(RP, allow=allow)
    return authenticator.get(options), challenge


def _authenticate(
    authenticator: SoftAuthenticator, stored: StoredCredential
) -> AuthenticationResult:
    answer, challenge = _assertion(authenticator, (stored,))
    return verify_authentication(RP, credential=answer, expected_challenge=challenge, stored=stored)


def _refusal(call: Any, **kwargs: Any) -> WebAuthnError:
    with pytest.raises(WebAuthnError) as refused:
        call(RP, **kwargs)
    return refused.value


def _platform() -> SoftAuthenticator:
    return SoftAuthenticator(RP_ID, ORIGIN, transport="internal", resident=True)


def _security_key() -> SoftAuthenticator:
    return SoftAuthenticator(RP_ID, ORIGIN, transport="usb", resident=False)


def _flip_last_byte(text: str) -> str:
    data = bytearray(from_b64url(text))
    data[-1] ^= 0x01
    return b64url(bytes(data))


# --- relying party -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "https://notbroker.example",
        "http://broker.example",
        "https://broker.example/login",
        "broker.example",
    ],
)
def test_relying_party_when_origin_outside_rp_id_or_insecure_then_configuration_error(
    origin: str,
) -> None:
    with pytest.raises(ConfigurationError):
        RelyingParty(RP_ID, "Example Brokerage", (origin,))


def test_relying_party_when_localhost_over_http_then_accepted_for_development() -> None:
    rp = RelyingParty("localhost", "Dev", ("http://localhost:8443",))

    assert rp.origins == ("http://localhost:8443",)


def test_relying_party_when_no_origin_then_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        RelyingParty(RP_ID, "Example Brokerage", ())


# --- registration options ----------------------------------------------------------------


def test_registration_options_when_platform_passkey_then_uv_resident_key_and_platform() -> None:
    options, challenge = registration_options(
        RP,
        user_handle=USER_HANDLE,
        user_name="alice@broker.example",
        display_name="Alice Trader",
        kind=AuthenticatorKind.PLATFORM,
        exclude=(),
        resident_key=True,
    )

    assert from_b64url(options["challenge"]) == challenge
    assert len(challenge) >= 16
    assert options["rp"] == {"id": RP_ID, "name": "Example Brokerage"}
    assert options["user"] == {
        "id": b64url(USER_HANDLE),
        "name": "alice@broker.example",
        "displayName": "Alice Trader",
    }
    assert [param["alg"] for param in options["pubKeyCredParams"]] == [-8, -7, -257]
    assert options["attestation"] == "none"
    assert options["authenticatorSelection"] == {
        "authenticatorAttachment": "platform",
        "residentKey": "required",
        "requireResidentKey": True,
        "userVerification": "required",
    }
    assert options["hints"] == ["client-device"]
    assert options["excludeCredentials"] == []


def test_registration_options_when_security_key_then_cross_platform_without_resident_key() -> None:
    options, _ = registration_options(
        RP,
        user_handle=USER_HANDLE,
        user_name="alice",
        display_name="Alice",
        kind=AuthenticatorKind.SECURITY_KEY,
        exclude=(),
        resident_key=False,
    )

    selection = options["authenticatorSelection"]
    assert selection["authenticatorAttachment"] == "cross-platform"
    assert selection["residentKey"] == "discouraged"
    assert selection["requireResidentKey"] is False
    assert selection["userVerification"] == "required"
    assert options["hints"] == ["security-key"]


def test_registration_options_when_any_kind_then_no_attachment_and_no_hint() -> None:
    options, _ = registration_options(
        RP,
        user_handle=USER_HANDLE,
        user_name="alice",
        display_name="Alice",
        kind=AuthenticatorKind.ANY,
        exclude=(),
        resident_key=True,
    )

    assert "authenticatorAttachment" not in options["authenticatorSelection"]
    assert "hints" not in options


def test_registration_options_when_called_twice_then_challenges_differ() -> None:
    arguments: dict[str, Any] = {
        "user_handle": USER_HANDLE,
        "user_name": "alice",
        "display_name": "Alice",
        "kind": AuthenticatorKind.ANY,
        "exclude": (),
        "resident_key": True,
    }

    assert registration_options(RP, **arguments)[1] != registration_options(RP, **arguments)[1]


@pytest.mark.parametrize(
    ("user_handle", "user_name"),
    [(b"", "alice"), (b"x" * 65, "alice"), (USER_HANDLE, ""), (USER_HANDLE, "a" * 257)],
)
def test_registration_options_when_user_entity_invalid_then_refused(
    user_handle: bytes, user_name: str
) -> None:
    refused = _refusal(
        registration_options,
        user_handle=user_handle,
        user_name=user_name,
        display_name="Alice",
        kind=AuthenticatorKind.ANY,
        exclude=(),
        resident_key=True,
    )

    assert refused.reason == WebAuthnReason.BAD_OPTIONS


# --- registration and authentication -----------------------------------------------------


def test_platform_authenticator_when_registered_then_stored_credential_describes_it() -> None:
    authenticator = _platform()

    stored = _register(authenticator, kind=AuthenticatorKind.PLATFORM)

    (credential_id,) = authenticator.credentials
    assert stored.credential_id == credential_id
    assert stored.user_handle == USER_HANDLE
    assert stored.transports == ("internal",)
    assert stored.sign_count == 0
    assert stored.backed_up is False
    assert stored.aaguid == "00000000-0000-0000-0000-000000000000"
    assert stored.public_key == authenticator.credentials[credential_id].cose_public_key()


def test_platform_authenticator_when_asserting_then_verified_with_user_verification() -> None:
    authenticator = _platform()
    stored = _register(authenticator, kind=AuthenticatorKind.PLATFORM)

    result = _authenticate(authenticator, stored)

    assert result == AuthenticationResult(
        new_sign_count=1,
        counter_regressed=False,
        user_verified=True,
        backed_up=False,
        reported_sign_count=1,
    )


def test_security_key_when_registered_and_asserting_then_verified() -> None:
    key = _security_key()
    stored = _register(key, kind=AuthenticatorKind.SECURITY_KEY, resident_key=False)

    result = _authenticate(key, stored)

    assert stored.transports == ("usb",)
    assert result.user_verified is True
    assert result.new_sign_count == 1


def test_security_key_when_assertion_has_no_user_handle_then_still_verified() -> None:
    key = _security_key()
    stored = _register(key, resident_key=False)
    answer, challenge = _assertion(key, (stored,))

    result = verify_authentication(
        RP, credential=answer, expected_challenge=challenge, stored=stored
    )

    assert "userHandle" not in answer["response"]
    assert user_handle_from(answer) is None
    assert result.user_verified is True


def test_eddsa_authenticator_when_registered_and_asserting_then_verified() -> None:
    authenticator = SoftAuthenticator(RP_ID, ORIGIN, algorithm=EDDSA)
    stored = _register(authenticator)

    assert _authenticate(authenticator, stored).new_sign_count == 1


def test_second_origin_of_the_relying_party_when_used_then_accepted() -> None:
    authenticator = SoftAuthenticator(RP_ID, APP_ORIGIN)
    stored = _register(authenticator)

    assert _authenticate(authenticator, stored).user_verified is True


def test_synced_passkey_when_backed_up_then_reported_as_backed_up() -> None:
    passkey = SoftAuthenticator(RP_ID, ORIGIN, counter_step=0, backup_eligible=True, backed_up=True)
    stored = _register(passkey)

    result = _authenticate(passkey, stored)

    assert stored.backed_up is True
    assert result.backed_up is True
    assert result.counter_regressed is False


def test_registration_when_backed_up_without_backup_eligibility_then_refused() -> None:
    impossible = SoftAuthenticator(RP_ID, ORIGIN, backup_eligible=False, backed_up=True)

    with pytest.raises(WebAuthnError) as refused:
        _register(impossible)

    assert refused.value.reason == WebAuthnReason.INVALID


# --- several credentials -----------------------------------------------------------------


def test_several_credentials_when_registering_again_then_existing_ones_are_excluded() -> None:
    phone, key = _platform(), _security_key()
    on_phone = _register(phone, kind=AuthenticatorKind.PLATFORM)
    on_key = _register(
        key, kind=AuthenticatorKind.SECURITY_KEY, exclude=(on_phone,), resident_key=False
    )

    options, _ = registration_options(
        RP,
        user_handle=USER_HANDLE,
        user_name="alice",
        display_name="Alice",
        kind=AuthenticatorKind.ANY,
        exclude=(on_phone, on_key),
        resident_key=False,
    )

    assert options["excludeCredentials"] == [
        {"id": b64url(on_phone.credential_id), "type": "public-key", "transports": ["internal"]},
        {"id": b64url(on_key.credential_id), "type": "public-key", "transports": ["usb"]},
    ]
    with pytest.raises(AuthenticatorRefusedError):
        phone.create(options)
    with pytest.raises(AuthenticatorRefusedError):
        key.create(options)


def test_several_credentials_when_each_asserts_then_each_verifies_against_its_own() -> None:
    phone, key = _platform(), _security_key()
    on_phone = _register(phone)
    on_key = _register(key, exclude=(on_phone,), resident_key=False)
    options, challenge = authentication_options(RP, allow=(on_phone, on_key))

    from_key = key.get(options)
    from_phone = phone.get(options)

    assert verify_authentication(
        RP, credential=from_key, expected_challenge=challenge, stored=on_key
    ).user_verified
    assert verify_authentication(
        RP, credential=from_phone, expected_challenge=challenge, stored=on_phone
    ).user_verified
    refused = _refusal(
        verify_authentication, credential=from_key, expected_challenge=challenge, stored=on_phone
    )
    assert refused.reason == WebAuthnReason.CREDENTIAL_MISMATCH


def test_assertion_when_named_credential_swapped_for_stored_one_then_refused() -> None:
    phone, key = _platform(), _security_key()
    on_phone = _register(phone)
    on_key = _register(key, resident_key=False)
    answer, challenge = _assertion(key, (on_key,))
    answer["id"] = answer["rawId"] = b64url(on_phone.credential_id)

    refused = _refusal(
        verify_authentication, credential=answer, expected_challenge=challenge, stored=on_phone
    )

    assert refused.reason == WebAuthnReason.INVALID


def test_authentication_options_when_allow_list_given_then_ids_transports_and_uv_required() -> None:
    stored = _register(_security_key(), resident_key=False)

    options, challenge = authentication_options(RP, allow=(stored,))

    assert from_b64url(options["challenge"]) == challenge
    assert options["rpId"] == RP_ID
    assert options["userVerification"] == "required"
    assert options["allowCredentials"] == [
        {"id": b64url(stored.credential_id), "type": "public-key", "transports": ["usb"]}
    ]


# --- passwordless ------------------------------------------------------------------------


def test_passwordless_when_allow_list_empty_then_discoverable_assertion_names_the_user() -> None:
    passkey = _platform()
    stored = _register(passkey, user_handle=OTHER_HANDLE)
    options, challenge = authentication_options(RP, allow=())

    answer = passkey.get(options)

    assert options["allowCredentials"] == []
    assert options["userVerification"] == "required"
    assert user_handle_from(answer) == OTHER_HANDLE
    assert credential_id_from(answer) == stored.credential_id
    result = verify_authentication(
        RP, credential=answer, expected_challenge=challenge, stored=stored
    )
    assert result.user_verified is True


def test_passwordless_when_user_handle_belongs_to_someone_else_then_refused() -> None:
    passkey = _platform()
    stored = _register(passkey)
    answer, challenge = _assertion(passkey)
    answer["response"]["userHandle"] = b64url(OTHER_HANDLE)

    refused = _refusal(
        verify_authentication, credential=answer, expected_challenge=challenge, stored=stored
    )

    assert refused.reason == WebAuthnReason.CREDENTIAL_MISMATCH


def test_passwordless_when_security_key_has_no_resident_key_then_it_cannot_answer() -> None:
    key = _security_key()
    _register(key, resident_key=False)
    options, _ = authentication_options(RP, allow=())

    with pytest.raises(AuthenticatorRefusedError):
        key.get(options)


# --- attacks: origin, RP ID, challenge ---------------------------------------------------


def test_registration_when_origin_is_a_phishing_site_then_refused() -> None:
    phished = SoftAuthenticator(RP_ID, "https://broker-login.example")

    with pytest.raises(WebAuthnError) as refused:
        _register(phished)

    assert refused.value.reason == WebAuthnReason.INVALID
    assert "origin" in refused.value.detail


def test_authentication_when_origin_is_a_phishing_site_then_refused() -> None:
    authenticator = _platform()
    stored = _register(authenticator)
    authenticator.origin = "https://broker-login.example"

    with pytest.raises(WebAuthnError) as refused:
        _authenticate(authenticator, stored)

    assert refused.value.reason == WebAuthnReason.INVALID


def test_registration_when_signed_for_another_rp_id_then_refused() -> None:
    relayed = SoftAuthenticator("evil.example", ORIGIN)

    with pytest.raises(WebAuthnError) as refused:
        _register(relayed)

    assert "RP ID" in refused.value.detail


def test_authentication_when_signed_for_another_rp_id_then_refused() -> None:
    authenticator = _platform()
    stored = _register(authenticator)
    authenticator.rp_id = "evil.example"

    with pytest.raises(WebAuthnError) as refused:
        _authenticate(authenticator, stored)

    assert "RP ID" in refused.value.detail


def test_registration_when_answer_is_for_another_challenge_then_refused() -> None:
    options, _ = registration_options(
        RP,
        user_handle=USER_HANDLE,
        user_name="alice",
        display_name="Alice",
        kind=AuthenticatorKind.ANY,
        exclude=(),
        resident_key=True,
    )
    answer = _platform().create(options)

    refused = _refusal(
        verify_registration,
        credential=answer,
        expected_challenge=secrets.token_bytes(32),
        user_handle=USER_HANDLE,
    )

    assert "challenge" in refused.detail


def test_assertion_when_replayed_against_a_new_challenge_then_refused() -> None:
    authenticator = _platform()
    stored = _register(authenticator)
    old_answer, old_challenge = _assertion(authenticator, (stored,))
    verify_authentication(
        RP, credential=old_answer, expected_challenge=old_challenge, stored=stored
    )
    _, new_challenge = authentication_options(RP, allow=(stored,))

    refused = _refusal(
        verify_authentication,
        credential=old_answer,
        expected_challenge=new_challenge,
        stored=stored,
    )

    assert refused.reason == WebAuthnReason.INVALID
    assert "challenge" in refused.detail


def test_registration_answer_when_presented_as_an_assertion_then_refused() -> None:
    authenticator = _platform()
    options, challenge = registration_options(
        RP,
        user_handle=USER_HANDLE,
        user_name="alice",
        display_name="Alice",
        kind=AuthenticatorKind.ANY,
        exclude=(),
        resident_key=True,
    )
    answer = authenticator.create(options)
    stored = verify_registration(
        RP, credential=answer, expected_challenge=challenge, user_handle=USER_HANDLE
    )
    answer["response"]["authenticatorData"] = b64url(b"\x00" * 37)
    answer["response"]["signature"] = b64url(b"\x00" * 70)

    refused = _refusal(
        verify_authentication, credential=answer, expected_challenge=challenge, stored=stored
    )

    assert "type" in refused.detail


@pytest.mark.parametrize("expected_challenge", [b"", b"short"])
def test_verification_when_expected_challenge_is_empty_or_short_then_refused(
    expected_challenge: bytes,
) -> None:
    authenticator = _platform()
    stored = _register(authenticator)
    answer, _ = _assertion(authenticator, (stored,))

    refused = _refusal(
        verify_authentication,
        credential=answer,
        expected_challenge=expected_challenge,
        stored=stored,
    )

    assert refused.reason == WebAuthnReason.BAD_OPTIONS


def test_registration_when_raw_id_is_not_the_attested_credential_then_refused() -> None:
    options, challenge = registration_options(
        RP,
        user_handle=USER_HANDLE,
        user_name="alice",
        display_name="Alice",
        kind=AuthenticatorKind.ANY,
        exclude=(),
        resident_key=True,
    )
    answer = _platform().create(options)
    answer["id"] = answer["rawId"] = b64url(b"someone else's credential id")

    refused = _refusal(
        verify_registration,
        credential=answer,
        expected_challenge=challenge,
        user_handle=USER_HANDLE,
    )

    assert refused.reason == WebAuthnReason.INVALID


# --- attacks: tampering ------------------------------------------------------------------


def _tamper_client_data(response: dict[str, Any]) -> None:
    collected = json.loads(from_b64url(response["clientDataJSON"]))
    collected["crossOrigin"] = True
    response["clientDataJSON"] = b64url(json.dumps(collected).encode())


def _tamper_authenticator_data(response: dict[str, Any]) -> None:
    response["authenticatorData"] = _flip_last_byte(response["authenticatorData"])


def _tamper_signature(response: dict[str, Any]) -> None:
    signature = bytearray(from_b64url(response["signature"]))
    signature[len(signature) // 2] ^= 0x01
    response["signature"] = b64url(bytes(signature))


@pytest.mark.parametrize(
    "tamper", [_tamper_client_data, _tamper_authenticator_data, _tamper_signature]
)
def test_assertion_when_tampered_then_signature_check_refuses_it(tamper: Any) -> None:
    authenticator = _platform()
    stored = _register(authenticator)
    answer, challenge = _assertion(authenticator, (stored,))
    tamper(answer["response"])

    refused = _refusal(
        verify_authentication, credential=answer, expected_challenge=challenge, stored=stored
    )

    assert refused.reason == WebAuthnReason.INVALID
    assert "signature" in refused.detail


def test_assertion_when_authenticator_data_raises_its_counter_then_refused() -> None:
    authenticator = _platform()
    stored = _register(authenticator)
    answer, challenge = _assertion(authenticator, (stored,))
    data = bytearray(from_b64url(answer["response"]["authenticatorData"]))
    data[33:37] = (1000).to_bytes(4, "big")
    answer["response"]["authenticatorData"] = b64url(bytes(data))

    refused = _refusal(
        verify_authentication, credential=answer, expected_challenge=challenge, stored=stored
    )

    assert refused.reason == WebAuthnReason.INVALID


def test_assertion_when_checked_against_another_public_key_then_refused() -> None:
    authenticator = _platform()
    stored = _register(authenticator)
    impostor_key = _register(_platform()).public_key
    answer, challenge = _assertion(authenticator, (stored,))
    forged = StoredCredential(
        credential_id=stored.credential_id,
        public_key=impostor_key,
        sign_count=0,
        transports=(),
        user_handle=USER_HANDLE,
        backed_up=False,
        aaguid=stored.aaguid,
    )

    refused = _refusal(
        verify_authentication, credential=answer, expected_challenge=challenge, stored=forged
    )

    assert refused.reason == WebAuthnReason.INVALID


def test_registration_when_client_data_tampered_then_refused() -> None:
    options, challenge = registration_options(
        RP,
        user_handle=USER_HANDLE,
        user_name="alice",
        display_name="Alice",
        kind=AuthenticatorKind.ANY,
        exclude=(),
        resident_key=True,
    )
    answer = _platform().create(options)
    collected = json.loads(from_b64url(answer["response"]["clientDataJSON"]))
    collected["type"] = "webauthn.get"
    answer["response"]["clientDataJSON"] = b64url(json.dumps(collected).encode())

    refused = _refusal(
        verify_registration,
        credential=answer,
        expected_challenge=challenge,
        user_handle=USER_HANDLE,
    )

    assert refused.reason == WebAuthnReason.INVALID


def test_stored_credential_when_public_key_is_corrupt_then_refused_not_crashed() -> None:
    authenticator = _platform()
    stored = _register(authenticator)
    answer, challenge = _assertion(authenticator, (stored,))
    corrupt = StoredCredential(
        credential_id=stored.credential_id,
        public_key=b"\xa1\x01",
        sign_count=0,
        transports=(),
        user_handle=USER_HANDLE,
        backed_up=False,
        aaguid=stored.aaguid,
    )

    refused = _refusal(
        verify_authentication, credential=answer, expected_challenge=challenge, stored=corrupt
    )

    assert refused.reason == WebAuthnReason.INVALID


# --- user verification -------------------------------------------------------------------


def test_registration_when_user_not_verified_then_refused() -> None:
    presence_only = SoftAuthenticator(RP_ID, ORIGIN, user_verified=False)

    with pytest.raises(WebAuthnError) as refused:
        _register(presence_only)

    assert refused.value.reason == WebAuthnReason.USER_NOT_VERIFIED


def test_authentication_when_user_not_verified_then_refused() -> None:
    authenticator = _platform()
    stored = _register(authenticator)
    authenticator.user_verified = False

    with pytest.raises(WebAuthnError) as refused:
        _authenticate(authenticator, stored)

    assert refused.value.reason == WebAuthnReason.USER_NOT_VERIFIED


def _soft_webauthn_json(answer: dict[str, Any]) -> dict[str, Any]:
    response = {name: b64url(value) for name, value in answer["response"].items() if value}
    raw_id = answer["rawId"]
    return {
        "id": b64url(raw_id),
        "rawId": b64url(raw_id),
        "type": "public-key",
        "response": response,
    }


def test_presence_only_key_from_soft_webauthn_when_registering_then_user_not_verified() -> None:
    options, challenge = registration_options(
        RP,
        user_handle=USER_HANDLE,
        user_name="alice",
        display_name="Alice",
        kind=AuthenticatorKind.SECURITY_KEY,
        exclude=(),
        resident_key=False,
    )
    device_options = {
        "publicKey": {
            **options,
            "challenge": challenge,
            "user": {**options["user"], "id": USER_HANDLE},
        }
    }
    answer = SoftWebauthnDevice().create(device_options, ORIGIN)

    refused = _refusal(
        verify_registration,
        credential=_soft_webauthn_json(answer),
        expected_challenge=challenge,
        user_handle=USER_HANDLE,
    )

    assert refused.reason == WebAuthnReason.USER_NOT_VERIFIED


# --- signature counter -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stored_count", "reported", "regressed", "to_store"),
    [
        pytest.param(0, 0, False, 0, id="0->0 synced passkey"),
        pytest.param(0, 7, False, 7, id="0->7 first count"),
        pytest.param(5, 6, False, 6, id="5->6"),
        pytest.param(6, 6, True, 6, id="6->6 clone?"),
        pytest.param(6, 3, True, 6, id="6->3 clone?"),
        pytest.param(6, 0, True, 6, id="6->0 clone?"),
    ],
)
def test_counter_when_compared_with_stored_then_regression_flagged_without_refusal(
    *, stored_count: int, reported: int, regressed: bool, to_store: int
) -> None:
    authenticator = SoftAuthenticator(RP_ID, ORIGIN, counter_step=0)
    stored = _register(authenticator)
    stored = replace(stored, sign_count=stored_count)
    authenticator.counter = reported

    result = _authenticate(authenticator, stored)

    assert result.reported_sign_count == reported
    assert result.counter_regressed is regressed
    assert result.new_sign_count == to_store
    assert result.user_verified is True


def test_counter_when_authenticator_counts_up_then_each_assertion_is_clean() -> None:
    key = _security_key()
    stored = _register(key, resident_key=False)

    for expected in (1, 2, 3):
        result = _authenticate(key, stored)
        stored = replace(stored, sign_count=result.new_sign_count)
        assert (result.new_sign_count, result.counter_regressed) == (expected, False)


def test_counter_when_cloned_key_replays_counter_then_flagged() -> None:
    original = _security_key()
    stored = _register(original, resident_key=False)
    clone = SoftAuthenticator(RP_ID, ORIGIN, transport="usb", resident=False)
    clone.credentials = dict(original.credentials)
    stored = replace(stored, sign_count=_authenticate(original, stored).new_sign_count)

    result = _authenticate(clone, stored)

    assert result.counter_regressed is True


# --- identifiers -------------------------------------------------------------------------


def test_credential_id_from_when_only_id_present_then_decoded() -> None:
    assert credential_id_from({"id": b64url(b"credential-1")}) == b"credential-1"


@pytest.mark.parametrize(
    "credential",
    [
        {},
        {"rawId": "!!!"},
        {"rawId": "a b"},
        {"rawId": 12},
        {"rawId": ""},
        {"rawId": "A"},
        {"rawId": b64url(b"one"), "id": b64url(b"two")},
        {"rawId": "A" * 2000},
        [],
        "not a dict",
        None,
    ],
)
def test_credential_id_from_when_garbage_then_malformed(credential: Any) -> None:
    with pytest.raises(WebAuthnError) as refused:
        credential_id_from(credential)

    assert refused.value.reason == WebAuthnReason.MALFORMED


@pytest.mark.parametrize(
    "response",
    [{"userHandle": 5}, {"userHandle": "%%%"}, {"userHandle": b64url(b"u" * 65)}, []],
)
def test_user_handle_from_when_garbage_then_malformed(response: Any) -> None:
    with pytest.raises(WebAuthnError) as refused:
        user_handle_from({"response": response})

    assert refused.value.reason == WebAuthnReason.MALFORMED


@pytest.mark.parametrize("response", [{}, {"userHandle": None}, {"userHandle": ""}])
def test_user_handle_from_when_absent_then_none(response: dict[str, Any]) -> None:
    assert user_handle_from({"response": response}) is None


def test_webauthn_error_when_raised_then_is_a_tradeguard_error_with_stable_reason() -> None:
    error = WebAuthnError(WebAuthnReason.INVALID, "detail")

    assert isinstance(error, TradeGuardError)
    assert error.reason == "WEBAUTHN_INVALID"
    assert str(error) == "WEBAUTHN_INVALID: detail"


# --- hostile input -----------------------------------------------------------------------

HUGE = "A" * 300_000


@pytest.mark.parametrize(
    "field", ["clientDataJSON", "authenticatorData", "signature", "userHandle"]
)
def test_assertion_when_a_field_is_huge_then_malformed(field: str) -> None:
    authenticator = _platform()
    stored = _register(authenticator)
    answer, challenge = _assertion(authenticator, (stored,))
    answer["response"][field] = HUGE

    refused = _refusal(
        verify_authentication, credential=answer, expected_challenge=challenge, stored=stored
    )

    assert refused.reason == WebAuthnReason.MALFORMED


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("clientDataJSON", b64url(b"\xff\xfe not utf-8")),
        ("clientDataJSON", b64url(b"[" * 5000)),
        ("clientDataJSON", b64url(b'["type", "challenge", "origin"]')),
        ("clientDataJSON", b64url(b'{"type": 1, "challenge": 2, "origin": 3}')),
        ("attestationObject", b64url(b"\xa0")),
        ("attestationObject", b64url(b"\x83\x01\x02\x03")),
        ("attestationObject", b64url(b"\xff")),
        ("attestationObject", ""),
    ],
)
def test_registration_when_structures_inside_are_broken_then_webauthn_error(
    field: str, value: str
) -> None:
    options, challenge = registration_options(
        RP,
        user_handle=USER_HANDLE,
        user_name="alice",
        display_name="Alice",
        kind=AuthenticatorKind.ANY,
        exclude=(),
        resident_key=True,
    )
    answer = _platform().create(options)
    answer["response"][field] = value

    _refusal(
        verify_registration,
        credential=answer,
        expected_challenge=challenge,
        user_handle=USER_HANDLE,
    )


@pytest.mark.parametrize(
    ("transports", "kept"),
    [
        (["usb", "nfc", "teleport"], ("nfc", "usb")),
        ([{"usb": 1}, ["nfc"], 3, "hybrid"], ("hybrid",)),
        (None, ()),
    ],
)
def test_registration_when_transports_are_odd_then_only_known_ones_kept(
    transports: Any, kept: tuple[str, ...]
) -> None:
    options, challenge = registration_options(
        RP,
        user_handle=USER_HANDLE,
        user_name="alice",
        display_name="Alice",
        kind=AuthenticatorKind.ANY,
        exclude=(),
        resident_key=True,
    )
    answer = _platform().create(options)
    answer["response"]["transports"] = transports

    stored = verify_registration(
        RP, credential=answer, expected_challenge=challenge, user_handle=USER_HANDLE
    )

    assert stored.transports == kept


@pytest.mark.parametrize("transports", ["usb", {"usb": True}, ["usb"] * 50])
def test_registration_when_transports_is_not_a_short_list_then_malformed(transports: Any) -> None:
    options, challenge = registration_options(
        RP,
        user_handle=USER_HANDLE,
        user_name="alice",
        display_name="Alice",
        kind=AuthenticatorKind.ANY,
        exclude=(),
        resident_key=True,
    )
    answer = _platform().create(options)
    answer["response"]["transports"] = transports

    refused = _refusal(
        verify_registration,
        credential=answer,
        expected_challenge=challenge,
        user_handle=USER_HANDLE,
    )

    assert refused.reason == WebAuthnReason.MALFORMED


B64URL_TEXT = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=", max_size=80
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text(max_size=20)
    | B64URL_TEXT
    | st.just(HUGE)
)
KEYS = st.sampled_from(
    [
        "id",
        "rawId",
        "type",
        "response",
        "clientDataJSON",
        "attestationObject",
        "authenticatorData",
        "signature",
        "userHandle",
        "transports",
    ]
) | st.text(max_size=8)
JSONISH = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=6),
    max_leaves=20,
)
GARBAGE_CREDENTIALS = st.dictionaries(KEYS, JSONISH, max_size=8) | JSONISH
GARBAGE_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@pytest.fixture(scope="module")
def enrolled() -> tuple[SoftAuthenticator, StoredCredential]:
    authenticator = _platform()
    return authenticator, _register(authenticator)


@GARBAGE_SETTINGS
@given(credential=GARBAGE_CREDENTIALS)
def test_garbage_when_verified_as_registration_then_only_webauthn_error(credential: Any) -> None:
    with pytest.raises(WebAuthnError):
        verify_registration(
            RP, credential=credential, expected_challenge=bytes(32), user_handle=USER_HANDLE
        )


@GARBAGE_SETTINGS
@given(credential=GARBAGE_CREDENTIALS)
def test_garbage_when_verified_as_assertion_then_only_webauthn_error(
    credential: Any, enrolled: tuple[SoftAuthenticator, StoredCredential]
) -> None:
    _, stored = enrolled

    with pytest.raises(WebAuthnError):
        verify_authentication(
            RP, credential=credential, expected_challenge=bytes(32), stored=stored
        )


@GARBAGE_SETTINGS
@given(credential=GARBAGE_CREDENTIALS)
def test_garbage_when_read_for_identifiers_then_a_value_or_webauthn_error(credential: Any) -> None:
    for read in (credential_id_from, user_handle_from):
        try:
            value = read(credential)
        except WebAuthnError:
            continue
        assert value is None or isinstance(value, bytes)


ASSERTION_PATHS = [
    ("id",),
    ("rawId",),
    ("type",),
    ("response",),
    ("response", "clientDataJSON"),
    ("response", "authenticatorData"),
    ("response", "signature"),
]


@GARBAGE_SETTINGS
@given(path=st.sampled_from(ASSERTION_PATHS), replacement=JSONISH)
def test_valid_assertion_when_one_part_replaced_by_garbage_then_only_webauthn_error(
    path: tuple[str, ...], replacement: Any, enrolled: tuple[SoftAuthenticator, StoredCredential]
) -> None:
    authenticator, stored = enrolled
    options, challenge = authentication_options(RP, allow=(stored,))
    answer = authenticator.get(options)
    target = answer
    for step in path[:-1]:
        target = target[step]
    if target[path[-1]] == replacement:
        return
    target[path[-1]] = replacement

    with pytest.raises(WebAuthnError):
        verify_authentication(RP, credential=answer, expected_challenge=challenge, stored=stored)


@GARBAGE_SETTINGS
@given(
    noise=st.binary(min_size=0, max_size=300),
    field=st.sampled_from(["clientDataJSON", "attestationObject"]),
)
def test_registration_when_a_part_is_random_bytes_then_only_webauthn_error(
    noise: bytes, field: str
) -> None:
    challenge = bytes(32)
    collected = {"type": "webauthn.create", "challenge": b64url(challenge), "origin": ORIGIN}
    credential = {
        "id": b64url(b"credential"),
        "rawId": b64url(b"credential"),
        "type": "public-key",
        "response": {
            "clientDataJSON": b64url(json.dumps(collected).encode()),
            "attestationObject": b64url(b"\xa0"),
        },
    }
    credential["response"][field] = base64.urlsafe_b64encode(noise).decode().rstrip("=")

    with pytest.raises(WebAuthnError):
        verify_registration(
            RP, credential=credential, expected_challenge=challenge, user_handle=USER_HANDLE
        )
