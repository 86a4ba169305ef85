"""The team's accounts, for admins: add an agent, list them, change one (role, disabled, a new password).

    POST  /api/v1/agents         {"name", "password", "role"}             -> 201 {"name", "role"}
    GET   /api/v1/agents                                                  -> {"agents": [agent, ...]}
    PATCH /api/v1/agents/{name}  any of {"role", "disabled", "password"}  -> agent
    (an agent: {"name", "role", "disabled"})

Disabling an account or giving it a new password ends its open sessions at once (on every instance: the
sessions are in the database); a new role holds from the agent's next call. The team is never left
without an enabled admin (409 ``last_admin``). Every change is audited with the admin's name; a password
is never answered, logged or audited.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from epay_desktop.services.accounts import LastAdminError, Role
from epay_desktop.store.postgres import AgentExistsError, AgentRecord
from epay_desktop.team.http import HttpError, answers, authorized, read_body, team_of, text_field

__all__ = ["agent_routes"]


def _role(value: object) -> Role:
    try:
        return Role(str(value))
    except ValueError:
        raise HttpError(400, "bad_request", f"role is one of {', '.join(r.value for r in Role)}.") from None


def _agent_json(record: AgentRecord) -> dict[str, object]:
    return {"name": record.name, "role": record.role, "disabled": record.disabled}


@answers
async def add_agent(request: Request) -> Response:
    admin = await authorized(request, Role.ADMIN)
    data = await read_body(request)
    role = _role(text_field(data, "role"))
    try:
        added = await team_of(request).accounts.add_agent(
            text_field(data, "name"), text_field(data, "password"), role, by=admin.name
        )
    except AgentExistsError as error:
        raise HttpError(409, "agent_exists", str(error)) from None
    except ValueError as error:
        raise HttpError(400, "bad_request", str(error)) from None
    return JSONResponse({"name": added.name, "role": added.role.value}, status_code=201)


@answers
async def list_agents(request: Request) -> Response:
    await authorized(request, Role.ADMIN)
    records = await team_of(request).accounts.agents()
    return JSONResponse({"agents": [_agent_json(r) for r in records]})


@answers
async def change_agent(request: Request) -> Response:
    admin = await authorized(request, Role.ADMIN)
    data = await read_body(request)
    unknown = set(data) - {"role", "disabled", "password"}
    if unknown or not data:
        raise HttpError(400, "bad_request", 'Give any of "role", "disabled" (true or false) and "password".')
    role = _role(data["role"]) if "role" in data else None
    disabled = data.get("disabled")
    if disabled is not None and not isinstance(disabled, bool):
        raise HttpError(400, "bad_request", "disabled is true or false.")
    password = text_field(data, "password") if "password" in data else None
    try:
        changed = await team_of(request).accounts.change_agent(
            request.path_params["name"], by=admin.name, role=role, disabled=disabled, password=password
        )
    except LookupError as error:
        raise HttpError(404, "no_such_agent", str(error)) from None
    except LastAdminError as error:
        raise HttpError(409, "last_admin", str(error)) from None
    except ValueError as error:
        raise HttpError(400, "bad_request", str(error)) from None
    return JSONResponse(_agent_json(changed))


def agent_routes(base: str) -> list[Route]:
    return [
        Route(f"{base}/agents", add_agent, methods=["POST"]),
        Route(f"{base}/agents", list_agents, methods=["GET"]),
        Route(f"{base}/agents/{{name}}", change_agent, methods=["PATCH"]),
    ]
