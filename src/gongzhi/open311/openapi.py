"""An OpenAPI 3.0 description of the Open311 endpoints (served at /open311/v2/openapi.json).

The JSON API's schema comes from django-ninja; these routes are plain Django views, so their
description is written here, from the GeoReport v2 spec and our extensions. The schemathesis
test fuzzes the endpoints with it.
"""

from __future__ import annotations

from typing import Any

from gongzhi.open311.choices import ATTRIBUTES, MAX_DESCRIPTION, MAX_RESULTS, Datatype

_FORMAT = {
    "name": "format",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "enum": ["xml", "json"]},
}
_JURISDICTION = {
    "name": "jurisdiction_id",
    "in": "query",
    "required": False,
    "schema": {"type": "string"},
    "description": "The city's region code; needed only when a server serves several cities.",
}
_ERROR = {"type": "array", "items": {"$ref": "#/components/schemas/Error"}}


def _query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    parameter: dict[str, Any] = {"name": name, "in": "query", "required": False, "schema": schema}
    if description:
        parameter["description"] = description
    return parameter


def _responses(schema: dict[str, Any], *statuses: int) -> dict[str, Any]:
    def content(body: dict[str, Any]) -> dict[str, Any]:
        return {
            "application/json": {"schema": body},
            "text/xml": {"schema": {"type": "string"}},
        }

    responses: dict[str, Any] = {"200": {"description": "OK", "content": content(schema)}}
    texts = {
        400: "Bad request (anything else)",
        403: "Missing or wrong api_key",
        404: "No such resource",
        429: "Rate limited (Retry-After says when to try again)",
    }
    for status in statuses:
        responses[str(status)] = {"description": texts[status], "content": content(_ERROR)}
    return responses


def _attribute_properties() -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for attribute in ATTRIBUTES:
        if not attribute.variable:
            continue
        if attribute.datatype == Datatype.MULTIVALUELIST:
            properties[f"attribute[{attribute.code}][]"] = {
                "type": "array",
                "items": {"type": "string", "enum": sorted(attribute.keys)},
            }
        elif attribute.datatype == Datatype.SINGLEVALUELIST:
            properties[f"attribute[{attribute.code}]"] = {
                "type": "string",
                "enum": sorted(attribute.keys),
            }
        else:
            properties[f"attribute[{attribute.code}]"] = {"type": "string"}
    return properties


def openapi_document(base_url: str) -> dict[str, Any]:
    request_form: dict[str, Any] = {
        "type": "object",
        "required": ["api_key", "service_code"],
        "properties": {
            "api_key": {"type": "string"},
            "jurisdiction_id": {"type": "string"},
            "service_code": {"type": "string"},
            "lat": {"type": "number", "minimum": -90, "maximum": 90},
            "long": {"type": "number", "minimum": -180, "maximum": 180},
            "address_string": {"type": "string", "maxLength": 200},
            "address_id": {"type": "string"},
            "email": {"type": "string"},
            "device_id": {"type": "string"},
            "account_id": {"type": "string"},
            "first_name": {"type": "string"},
            "last_name": {"type": "string"},
            "phone": {"type": "string"},
            "description": {"type": "string", "maxLength": MAX_DESCRIPTION},
            "media_url": {"type": "string", "format": "uri"},
            **_attribute_properties(),
        },
    }
    multipart = {
        **request_form,
        "properties": {
            **request_form["properties"],
            "media": {"type": "string", "format": "binary"},
        },
    }
    window = [
        _query("start_date", {"type": "string", "format": "date-time"}),
        _query("end_date", {"type": "string", "format": "date-time"}),
    ]
    paging = [
        _query("page", {"type": "integer", "minimum": 1}),
        _query("page_size", {"type": "integer", "minimum": 1, "maximum": MAX_RESULTS}),
    ]
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "gongzhi Open311 GeoReport v2",
            "version": "2",
            "description": "GeoReport v2 with page/page_size, extensions=true, "
            "updated_after/updated_before, media upload, lat/long/radius and FixMyStreet's "
            "servicerequestupdates. See docs/open311.md.",
        },
        "servers": [{"url": base_url}],
        "paths": {
            "/discovery.{format}": {
                "get": {
                    "operationId": "discovery",
                    "parameters": [_FORMAT],
                    "responses": _responses({"$ref": "#/components/schemas/Discovery"}, 400),
                }
            },
            "/services.{format}": {
                "get": {
                    "operationId": "getServices",
                    "parameters": [_FORMAT, _JURISDICTION],
                    "responses": _responses(
                        {"type": "array", "items": {"$ref": "#/components/schemas/Service"}},
                        400,
                        404,
                    ),
                }
            },
            "/services/{service_code}.{format}": {
                "get": {
                    "operationId": "getServiceDefinition",
                    "parameters": [
                        {
                            "name": "service_code",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                        _FORMAT,
                        _JURISDICTION,
                    ],
                    "responses": _responses({"type": "object"}, 400, 404),
                }
            },
            "/requests.{format}": {
                "get": {
                    "operationId": "getServiceRequests",
                    "parameters": [
                        _FORMAT,
                        _JURISDICTION,
                        _query("service_request_id", {"type": "string"}),
                        _query("service_code", {"type": "string"}),
                        _query("status", {"type": "string", "enum": ["open", "closed"]}),
                        *window,
                        _query("updated_after", {"type": "string", "format": "date-time"}),
                        _query("updated_before", {"type": "string", "format": "date-time"}),
                        _query("lat", {"type": "number", "minimum": -90, "maximum": 90}),
                        _query("long", {"type": "number", "minimum": -180, "maximum": 180}),
                        _query("radius", {"type": "number", "minimum": 1, "maximum": 5000}),
                        _query("extensions", {"type": "boolean"}),
                        *paging,
                    ],
                    "responses": _responses(
                        {"type": "array", "items": {"$ref": "#/components/schemas/Request"}},
                        400,
                        404,
                    ),
                },
                "post": {
                    "operationId": "postServiceRequest",
                    "parameters": [
                        _FORMAT,
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "schema": {"type": "string", "maxLength": 100},
                        },
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/x-www-form-urlencoded": {"schema": request_form},
                            "multipart/form-data": {"schema": multipart},
                        },
                    },
                    "responses": _responses({"type": "array"}, 400, 403, 404, 429),
                },
            },
            "/requests/{service_request_id}.{format}": {
                "get": {
                    "operationId": "getServiceRequest",
                    "parameters": [
                        {
                            "name": "service_request_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                        _FORMAT,
                        _JURISDICTION,
                        _query("extensions", {"type": "boolean"}),
                    ],
                    "responses": _responses({"type": "array"}, 400, 404),
                }
            },
            "/tokens/{token}.{format}": {
                "get": {
                    "operationId": "getToken",
                    "parameters": [
                        {
                            "name": "token",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                        _FORMAT,
                        _JURISDICTION,
                    ],
                    "responses": _responses({"type": "array"}, 400, 404),
                }
            },
            "/servicerequestupdates.{format}": {
                "get": {
                    "operationId": "getServiceRequestUpdates",
                    "parameters": [_FORMAT, _JURISDICTION, *window, *paging],
                    "responses": _responses({"type": "array"}, 400, 404),
                }
            },
        },
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["code", "description"],
                    "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
                },
                "Discovery": {
                    "type": "object",
                    "required": ["changeset", "contact", "key_service", "endpoints"],
                    "properties": {
                        "changeset": {"type": "string"},
                        "contact": {"type": "string"},
                        "key_service": {"type": "string"},
                        "endpoints": {"type": "array", "items": {"type": "object"}},
                    },
                },
                "Service": {
                    "type": "object",
                    "required": ["service_code", "service_name", "metadata", "type"],
                    "properties": {
                        "service_code": {"type": "string"},
                        "service_name": {"type": "string"},
                        "description": {"type": "string"},
                        "metadata": {"type": "boolean"},
                        "type": {"type": "string", "enum": ["realtime", "batch", "blackbox"]},
                        "keywords": {"type": "string"},
                        "group": {"type": "string"},
                    },
                },
                "Request": {
                    "type": "object",
                    "required": ["service_request_id", "status", "requested_datetime"],
                    "properties": {
                        "service_request_id": {"type": "string"},
                        "status": {"type": "string", "enum": ["open", "closed"]},
                        "status_notes": {"type": "string", "nullable": True},
                        "service_name": {"type": "string", "nullable": True},
                        "service_code": {"type": "string", "nullable": True},
                        "description": {"type": "string", "nullable": True},
                        "agency_responsible": {"type": "string", "nullable": True},
                        "service_notice": {"type": "string", "nullable": True},
                        "requested_datetime": {"type": "string", "format": "date-time"},
                        "updated_datetime": {"type": "string", "nullable": True},
                        "expected_datetime": {"type": "string", "nullable": True},
                        "address": {"type": "string", "nullable": True},
                        "address_id": {"type": "string", "nullable": True},
                        "zipcode": {"type": "string", "nullable": True},
                        "lat": {"type": "number", "nullable": True},
                        "long": {"type": "number", "nullable": True},
                        "media_url": {"type": "string", "nullable": True},
                    },
                },
            }
        },
    }
