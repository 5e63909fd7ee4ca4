"""marshmallow fields shared by the edge schemas of every package.

An integer from a request is only ever a bounded one: Python's ints have no limit, the database's
do, and a value past 64 bits once reached SQLite's driver as an OverflowError (a 500)."""
from marshmallow import fields, validate

from .types import INT32_MAX


class BoundedInt(fields.Integer):
    """An integer with required bounds. The Range validator also puts minimum/maximum into the
    OpenAPI document, so clients and the fuzzer see them."""

    def __init__(self, *, minimum: int, maximum: int, **kwargs):
        validators = kwargs.pop("validate", None) or []
        validators = [validators] if callable(validators) else list(validators)
        super().__init__(validate=[validate.Range(min=minimum, max=maximum), *validators], **kwargs)


def id_field(**kwargs) -> BoundedInt:
    """A row id in a JSON body: an integer (not "3"), from 1 to the database's 32-bit maximum."""
    return BoundedInt(minimum=1, maximum=INT32_MAX, strict=True, **kwargs)


# A conversation id names a resident: ASCII digits only (\d would take Arabic-Indic digits too)
# and short enough that it fits an id column.
# A bot conversation's id: r<resident id>-<HMAC tag> (backend.chat.gateway.sender_id); the tag is what
# makes it unguessable, the backend checks it.
SENDER_PATTERN = r"^r[0-9]{1,10}-[0-9a-f]{32}$"


class Function(fields.Function):
    """fields.Function that asks how many arguments its function takes once, when the schema is
    declared: marshmallow asks `inspect.signature` again for every value it dumps, which was a fifth
    of an order answer's dump (issue 22 item 5). Same output, same context rule."""

    def __init__(self, serialize=None, deserialize=None, **kwargs):
        super().__init__(serialize, deserialize, **kwargs)
        from marshmallow import utils
        self._plain = serialize is not None and len(utils.get_func_args(serialize)) == 1

    def _serialize(self, value, attr, obj, **kwargs):
        if self._plain:
            return self.serialize_func(obj)
        return super()._serialize(value, attr, obj, **kwargs)
