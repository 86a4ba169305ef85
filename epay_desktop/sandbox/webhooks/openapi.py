"""The OpenAPI paths of the webhook controls, merged into the controls' document."""

from __future__ import annotations

from typing import Any

_FAULTS_SCHEMA = {
    "type": "object",
    "properties": {
        "delayMs": {"type": "integer", "minimum": 0, "maximum": 600000},
        "duplicateRate": {"type": "number", "minimum": 0, "maximum": 1},
    },
}
_ATTEMPT = {
    "type": "object",
    "required": ["number", "at", "status", "duplicate"],
    "properties": {
        "number": {"type": "integer"},
        "at": {"type": "string", "format": "date-time"},
        "status": {"type": "integer", "nullable": True},
        "error": {"type": "string", "nullable": True},
        "duplicate": {"type": "boolean"},
    },
}
_DELIVERY = {
    "type": "object",
    "required": ["id", "registrationId", "url", "eventType", "reference", "state", "attempts", "payload"],
    "properties": {
        "id": {"type": "integer"},
        "registrationId": {"type": "string"},
        "url": {"type": "string"},
        "eventType": {"type": "string"},
        "msn": {"type": "string"},
        "reference": {"type": "string"},
        "state": {"type": "string", "enum": ["pending", "delivered", "dropped"]},
        "createdAt": {"type": "string", "format": "date-time"},
        "nextAttemptAt": {"type": "string", "format": "date-time", "nullable": True},
        "attempts": {"type": "array", "items": _ATTEMPT},
        "payload": {"type": "object"},
    },
}
_PROBLEM = {
    "description": "Problem JSON",
    "content": {"application/problem+json": {"schema": {"type": "object"}}},
}


def _ok(schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": "OK", "content": {"application/json": {"schema": schema}}}


WEBHOOK_CONTROL_PATHS: dict[str, Any] = {
    "/sandbox/v1/webhooks/deliveries": {
        "get": {
            "operationId": "listWebhookDeliveries",
            "summary": "The newest webhook deliveries (up to 2000) with every attempt, oldest first",
            "parameters": [
                {"name": "registrationId", "in": "query", "required": False, "schema": {"type": "string"}},
                {"name": "reference", "in": "query", "required": False, "schema": {"type": "string"}},
            ],
            "responses": {
                "200": _ok(
                    {
                        "type": "object",
                        "required": ["deliveries"],
                        "properties": {"deliveries": {"type": "array", "items": _DELIVERY}},
                    }
                )
            },
        }
    },
    "/sandbox/v1/webhooks/faults": {
        "get": {"operationId": "getWebhookFaults", "responses": {"200": _ok(_FAULTS_SCHEMA)}},
        "put": {
            "operationId": "setWebhookFaults",
            "summary": "Hold each delivery delayMs before its first attempt; send a delivered one again "
            "with probability duplicateRate",
            "requestBody": {"content": {"application/json": {"schema": _FAULTS_SCHEMA}}},
            "responses": {"200": _ok(_FAULTS_SCHEMA), "400": _PROBLEM},
        },
    },
}
