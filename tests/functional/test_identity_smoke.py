from fastapi.testclient import TestClient

from identity_flows import Person, sign_in_with_totp, signed_up_with_totp
from tradeguard.core.clock import FixedClock
from tradeguard.notify.notifier import MemorySender


def test_sign_up_enrol_and_sign_in(client: TestClient, mailbox: MemorySender, clock: FixedClock) -> None:
    alice = signed_up_with_totp(client, mailbox, clock, Person())
    me = client.get("/v1/me", headers=alice.headers)
    assert me.status_code == 200, me.text
    assert me.json()["mfa_methods"] == ["totp"]
    tokens = sign_in_with_totp(client, alice, clock)
    assert client.get("/v1/sessions", headers=alice.headers).status_code == 200
    assert tokens["enrollment_only"] is False
