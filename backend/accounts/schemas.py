from marshmallow import Schema, fields, validate, RAISE


class LoginSchema(Schema):
    class Meta:
        unknown = RAISE

    username = fields.String(required=True, validate=validate.Length(min=1, max=40))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=200))


class TokenSchema(Schema):
    token = fields.String()
    token_type = fields.String()
    role = fields.String()
    expires_in = fields.Integer()
    name = fields.String()
