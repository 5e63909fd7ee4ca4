"""GeoReport v2's two formats: JSON, and XML with the spec's element names (a list of <request> in
<service_requests>, of <service> in <services>, errors as <errors><error><code/><description/>)."""
import json
from xml.etree import ElementTree as ET

from flask import Response

# The spec's list element and item element of each response.
XML_NAMES = {
    "services": ("services", "service"),
    "requests": ("service_requests", "request"),
    "errors": ("errors", "error"),
    "discovery": ("discovery", None),
    "definition": ("service_definition", None),
}


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _element(parent, name: str, value) -> None:
    child = ET.SubElement(parent, name)
    if isinstance(value, dict):
        for key, item in value.items():
            _element(child, key, item)
    elif isinstance(value, list):
        # Lists inside an item: endpoints → endpoint, formats → format, attributes → attribute.
        singular = name[:-1] if name.endswith("s") else name
        for item in value:
            _element(child, singular, item)
    else:
        child.text = _text(value)


def render(kind: str, payload, fmt: str, status: int = 200) -> Response:
    if fmt == "json":
        return Response(json.dumps(payload, ensure_ascii=False), status=status, mimetype="application/json")
    root_name, item_name = XML_NAMES[kind]
    root = ET.Element(root_name)
    if item_name is None:
        for key, value in payload.items():
            _element(root, key, value)
    else:
        for item in payload:
            node = ET.SubElement(root, item_name)
            for key, value in item.items():
                _element(node, key, value)
    body = b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return Response(body, status=status, mimetype="text/xml")


def error(status: int, description: str, fmt: str) -> Response:
    return render("errors", [{"code": status, "description": description}], fmt, status)
