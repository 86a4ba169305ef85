"""The OpenAPI 3.0 document of the sandbox's own controls (served at /sandbox/v1/openapi.json)."""

from __future__ import annotations

from typing import Any

from epay_desktop.sandbox.webhooks.openapi import WEBHOOK_CONTROL_PATHS

_MSN = {"name": "Merchant-Serial-Number", "in": "header", "required": True, "schema": {"type": "string"}}
_PROBLEM = {
    "description": "Problem JSON",
    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
}
_FAULTS = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Faults"}}}}


def _ok(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


CONTROLS_OPENAPI: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {
        "title": "epay-desktop ePayment sandbox controls",
        "version": "1.0.0",
        "description": "Controls the real ePayment API lacks: list payments, play the customer, move the "
        "clock, reset or load a data set, and inject faults. No authentication.",
    },
    "paths": {
        "/sandbox/v1/qr-image": {
            "get": {
                "operationId": "getQrImage",
                "summary": "The QR image a QR payment's redirectUrl points at (qrFormat IMAGE/SVG+XML, "
                "the default, or IMAGE/PNG); it encodes the payment's landing URL",
                "parameters": [
                    {"name": "token", "in": "query", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": {
                        "description": "The QR code; a PNG is at most qrFormat.size pixels square",
                        "content": {
                            "image/svg+xml": {"schema": {"type": "string", "format": "binary"}},
                            "image/png": {"schema": {"type": "string", "format": "binary"}},
                        },
                    },
                    "404": _PROBLEM,
                },
            }
        },
        "/sandbox/v1/payments": {
            "get": {
                "operationId": "listPayments",
                "summary": "List this merchant's payments, newest first",
                "parameters": [
                    _MSN,
                    {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 0, "maximum": 1000},
                    },
                ],
                "responses": {"200": _ok({"$ref": "#/components/schemas/PaymentPage"}), "400": _PROBLEM},
            }
        },
        "/sandbox/v1/payments/{reference}/customer/{action}": {
            "post": {
                "operationId": "playCustomer",
                "summary": "Act as the customer on a CREATED payment",
                "parameters": [
                    _MSN,
                    {"name": "reference", "in": "path", "required": True, "schema": {"type": "string"}},
                    {
                        "name": "action",
                        "in": "path",
                        "required": True,
                        "schema": {
                            "type": "string",
                            "enum": [
                                "approve",
                                "reject",
                                "start-authorizing",
                                "finish-authorizing",
                                "expire",
                            ],
                        },
                    },
                ],
                "responses": {
                    "200": _ok(
                        {
                            "type": "object",
                            "description": "The payment as listed: GetPaymentResponse shape plus "
                            "merchantSerialNumber, paymentDescription, createdAt, updatedAt, authorizing",
                        }
                    ),
                    "400": _PROBLEM,
                    "404": _PROBLEM,
                    "409": _PROBLEM,
                },
            }
        },
        "/sandbox/v1/clock/advance": {
            "post": {
                "operationId": "advanceClock",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["seconds"],
                                "properties": {"seconds": {"type": "number", "minimum": 0}},
                            }
                        }
                    },
                },
                "responses": {
                    "200": _ok(
                        {"type": "object", "properties": {"now": {"type": "string", "format": "date-time"}}}
                    ),
                    "400": _PROBLEM,
                },
            }
        },
        "/sandbox/v1/reset": {
            "post": {
                "operationId": "reset",
                "summary": "Forget everything, restart the clock, clear faults, load a data set",
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {"data": {"type": "string", "enum": ["demo", "empty"]}},
                            }
                        }
                    }
                },
                "responses": {
                    "200": _ok(
                        {
                            "type": "object",
                            "properties": {"data": {"type": "string"}, "payments": {"type": "integer"}},
                        }
                    ),
                    "400": _PROBLEM,
                },
            }
        },
        "/sandbox/v1/faults": {
            "get": {"operationId": "getFaults", "responses": {"200": {"description": "OK", **_FAULTS}}},
            "put": {
                "operationId": "setFaults",
                "requestBody": {"required": True, **_FAULTS},
                "responses": {"200": {"description": "OK", **_FAULTS}, "400": _PROBLEM},
            },
        },
        "/sandbox/v1/stats": {
            "get": {
                "operationId": "stats",
                "responses": {
                    "200": _ok(
                        {
                            "type": "object",
                            "properties": {
                                "tokenRequests": {"type": "integer"},
                                "requests": {"type": "integer"},
                            },
                        }
                    )
                },
            }
        },
        "/sandbox/v1/openapi.json": {
            "get": {"operationId": "openapi", "responses": {"200": _ok({"type": "object"})}}
        },
    },
    "components": {
        "schemas": {
            "Problem": {
                "type": "object",
                "required": ["type", "title", "status", "traceId"],
                "properties": {
                    "type": {"type": "string"},
                    "title": {"type": "string"},
                    "detail": {"type": "string"},
                    "instance": {"type": "string"},
                    "status": {"type": "integer"},
                    "traceId": {"type": "string"},
                    "extraDetails": {"type": "array", "nullable": True, "items": {"type": "object"}},
                },
            },
            "Faults": {
                "type": "object",
                "properties": {
                    "latencyMs": {"type": "integer", "minimum": 0, "maximum": 600000},
                    "errorRates": {
                        "type": "object",
                        "properties": {
                            code: {"type": "number", "minimum": 0, "maximum": 1}
                            for code in ("500", "503", "429")
                        },
                        "additionalProperties": False,
                    },
                    "dropAfterCommit": {
                        "type": "integer",
                        "minimum": 0,
                        "description": "The next N successful cancel/capture/refund calls commit, then the "
                        "connection is dropped before the body is sent.",
                    },
                    "processingMs": {
                        "type": "integer",
                        "minimum": 0,
                        "maximum": 600000,
                        "description": "How long a cancel/capture/refund holds its payment; another one "
                        "for the same payment meanwhile gets 423 Order processing (6160).",
                    },
                    "captureFailures": {
                        "type": "integer",
                        "minimum": 0,
                        "description": "The next N captures get 6280 Capture failed, please try again "
                        "later (no effect; retry with the same key).",
                    },
                    "fundsUnavailable": {
                        "type": "integer",
                        "minimum": 0,
                        "description": "The next N captures get 6260 Funds unavailable (no effect).",
                    },
                },
            },
            "PaymentPage": {
                "type": "object",
                "required": ["items", "total", "offset", "limit"],
                "properties": {
                    "items": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "description": "GetPaymentResponse fields plus merchantSerialNumber, "
                            "paymentDescription, createdAt, updatedAt, authorizing",
                            "required": [
                                "reference",
                                "state",
                                "amount",
                                "aggregate",
                                "pspReference",
                                "merchantSerialNumber",
                                "paymentDescription",
                                "createdAt",
                                "updatedAt",
                            ],
                        },
                    },
                    "total": {"type": "integer"},
                    "offset": {"type": "integer"},
                    "limit": {"type": "integer"},
                },
            },
        }
    },
}

CONTROLS_OPENAPI["paths"].update(WEBHOOK_CONTROL_PATHS)
