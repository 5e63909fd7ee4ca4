"""Text as people type it: what is stored (`clean`) and what is compared (`for_matching`).

Residents paste from other apps, and hostile callers send anything. A NUL character is refused by
PostgreSQL outright (a 500, not a validation error); other control characters and the invisible
direction overrides make the text staff see differ from the text stored. So every stored text and
every looked-up key is cleaned; the resident's words are otherwise kept exactly as written."""
import re
import unicodedata
from collections.abc import Mapping

from marshmallow import Schema, pre_load

# C0/C1 controls except tab and newline; the bidirectional embeddings, overrides and isolates;
# the byte-order mark. Zero-width (non-)joiners stay: emoji and some scripts need them.
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff]")
_LINE_BREAKS = re.compile("\r\n|[\r\u2028\u2029\x85]")


def clean(value):
    """Control characters stripped (newline and tab kept, every line break made a newline)."""
    if not isinstance(value, str):
        return value
    return _INVISIBLE.sub("", _LINE_BREAKS.sub("\n", value))


def is_clean(value: str) -> bool:
    return clean(value) == value


def for_matching(value: str | None) -> str:
    """NFKC, for comparing only: full-width digits and letters (３号楼, Ａ座) and other compatibility
    forms equal their plain twins. Never stored: the order keeps what the resident wrote."""
    return unicodedata.normalize("NFKC", clean(value or ""))


def clean_all(data):
    """`clean` applied to every string of a JSON-like value, keys included."""
    if isinstance(data, str):
        return clean(data)
    if isinstance(data, list):
        return [clean_all(v) for v in data]
    if isinstance(data, Mapping):  # a JSON object, or webargs' proxy of the query string
        return {clean_all(k): clean_all(data[k]) for k in data}
    return data


class CleanSchema(Schema):
    """Every string of the input cleaned before validation: lengths, blanks and choices are judged on
    what would be stored, and nothing a database refuses reaches a query."""

    @pre_load
    def _clean_strings(self, data, **_):
        return clean_all(data)
