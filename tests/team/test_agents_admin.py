"""Admins keep the team's accounts through the server: list them, change a role, disable an account (its
sessions end at once, on every instance), give a new password; never leave the team without an admin.
Real PostgreSQL, two epay-team instances, hand-made HTTP requests."""

from __future__ import annotations

import httpx

from tests.team.conftest import PASSWORD, TeamRig, bearer, login, token
from tests.team.test_team_service import staffed  # noqa: F401  (the fixture)


def _agents(url: str, admin: str) -> dict[str, dict[str, object]]:
    answer = httpx.get(f"{url}/api/v1/agents", headers=bearer(admin), timeout=30)
    assert answer.status_code == 200, answer.text
    return {a["name"]: a for a in answer.json()["agents"]}


def _change(url: str, admin: str, name: str, **fields: object) -> httpx.Response:
    return httpx.patch(f"{url}/api/v1/agents/{name}", json=fields, headers=bearer(admin), timeout=30)


def test_an_admin_lists_and_changes_accounts_and_the_change_holds_on_every_instance(staffed: TeamRig) -> None:  # noqa: F811
    admin = token(staffed.first, "admin")
    listed = _agents(staffed.second, admin)
    assert listed["kari"] == {"name": "kari", "role": "agent", "disabled": False}
    assert "password" not in str(listed)
    assert "hash" not in str(listed)

    # A new role holds from the agent's next call, on the other instance too.
    kari = token(staffed.second, "kari")
    assert _change(staffed.first, admin, "kari", role="supervisor").json()["role"] == "supervisor"
    me = httpx.get(f"{staffed.second}/api/v1/me", headers=bearer(kari), timeout=30).json()
    assert me["role"] == "supervisor"

    # Disabled: the open session ends at once everywhere, and a login is refused.
    assert _change(staffed.second, admin, "kari", disabled=True).json()["disabled"] is True
    for url in (staffed.first, staffed.second):
        assert httpx.get(f"{url}/api/v1/me", headers=bearer(kari), timeout=30).status_code == 401
    assert login(staffed.first, "kari").status_code == 401
    assert _change(staffed.first, admin, "kari", disabled=False).status_code == 200
    kari = token(staffed.first, "kari")

    # A new password ends the sessions made with the old one.
    new_password = "a-new-long-password"
    assert _change(staffed.first, admin, "kari", password=new_password).status_code == 200
    assert httpx.get(f"{staffed.first}/api/v1/me", headers=bearer(kari), timeout=30).status_code == 401
    assert login(staffed.first, "kari", PASSWORD).status_code == 401
    assert login(staffed.first, "kari", new_password).status_code == 200


def test_only_admins_change_accounts_and_the_last_admin_stays(staffed: TeamRig) -> None:  # noqa: F811
    admin = token(staffed.first, "admin")
    siri = token(staffed.first, "siri")  # a supervisor
    assert httpx.get(f"{staffed.first}/api/v1/agents", headers=bearer(siri), timeout=30).status_code == 403
    refused = httpx.patch(
        f"{staffed.first}/api/v1/agents/kari", json={"role": "admin"}, headers=bearer(siri), timeout=30
    )
    assert refused.status_code == 403
    assert _agents(staffed.first, admin)["kari"]["role"] == "agent"

    for fields in ({"role": "agent"}, {"disabled": True}):
        answer = _change(staffed.first, admin, "admin", **fields)
        assert answer.status_code == 409, answer.text
        assert answer.json()["error"] == "last_admin"
    assert _change(staffed.first, admin, "siri", role="admin").status_code == 200
    assert _change(staffed.first, admin, "admin", role="supervisor").status_code == 200  # now allowed
    assert _change(staffed.first, admin, "kari", role="admin").status_code == 403  # no longer an admin

    siri = token(staffed.first, "siri")
    assert _change(staffed.first, siri, "nobody", role="agent").status_code == 404
    for bad in ({}, {"role": "boss"}, {"disabled": "yes"}, {"password": "short"}, {"colour": "red"}):
        assert _change(staffed.first, siri, "kari", **bad).status_code == 400, bad
    assert _agents(staffed.first, siri)["kari"] == {"name": "kari", "role": "agent", "disabled": False}
