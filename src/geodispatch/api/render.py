"""Render Open311 answers as JSON or XML, and errors in the spec's shape.

XML follows the spec's examples: a list under its plural element (``service_requests``)
holds one element per item under the singular name (``request``). Text goes through
ElementTree, which escapes markup; characters XML 1.0 cannot carry are dropped.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from enum import StrEnum
from typing import Any, Final

from fastapi import Response

#: plural element -> the element name of each item in it
SINGULAR: Final = {
    "service_requests": "request",
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "notes": "note",
    "errors": "error",
    "service_request_updates": "request_update",
}
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class Format(StrEnum):
    """Response formats the spec names."""

    JSON = "json"
    XML = "xml"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            if child is None:
                continue
            _fill(ET.SubElement(element, str(key)), child)
    elif isinstance(value, list):
        name = SINGULAR.get(element.tag, "item")
        for child in value:
            _fill(ET.SubElement(element, name), child)
    else:
        element.text = _text(value)


def to_xml(root: str, value: Any) -> bytes:
    """``value`` as an XML document whose root element is ``root``."""
    element = ET.Element(root)
    _fill(element, value)
    return bytes(ET.tostring(element, encoding="utf-8", xml_declaration=True))


def respond(
    fmt: Format, root: str, value: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """A JSON or XML response; ``root`` names the XML root (JSON is the bare value)."""
    if fmt is Format.XML:
        return Response(to_xml(root, value), status, headers, media_type="text/xml; charset=utf-8")
    body = json.dumps(value, ensure_ascii=False, allow_nan=False)
    return Response(body, status, headers, media_type="application/json; charset=utf-8")


def error_response(fmt: Format, status: int, description: str) -> Response:
    """The spec's error list: ``[{code, description}]`` (XML: ``<errors><error>``)."""
    return respond(fmt, "errors", [{"code": status, "description": description}], status=status)


def format_of(path: str) -> Format:
    """The format a URL asks for by its suffix (JSON unless it ends in .xml)."""
    return Format.XML if path.lower().endswith(".xml") else Format.JSON
