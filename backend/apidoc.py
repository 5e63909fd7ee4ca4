"""The error contract in the OpenAPI document: its schema, and which error answers each operation
declares. There is no catch-all "default" response, so an answer the document does not list is a
finding of the API fuzz test (tests/security/test_api_fuzz.py), not something it lets through."""
from http import HTTPStatus

from marshmallow import Schema, fields

# Who is asking: no or a bad token (401), the wrong kind of caller (403); too many requests (429).
AUTH = (401, 403, 429)
# A body: not JSON (400), too large (413); 422 (its fields) flask-smorest declares itself.
BODY = (400, 413)
# An order named in the path: out of scope looks missing (404), wrong state or a lost race (409).
ORDER = (404, 409)


class ErrorBodySchema(Schema):
    code = fields.String(required=True, metadata={"description": "machine-readable, e.g. invalid_transition"})
    message = fields.String(required=True)
    fields = fields.Dict(metadata={"description": "messages per input field (422)"})


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema, required=True)


def errors(blp, *statuses: int):
    """Declare the error answers of one operation, each with the error contract's schema."""
    def decorate(view):
        for status in statuses:
            view = blp.alt_response(status, response=HTTPStatus(status).name)(view)
        return view
    return decorate
