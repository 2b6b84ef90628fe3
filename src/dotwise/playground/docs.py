"""An offline ``/docs`` page rendered from the app's OpenAPI schema.

FastAPI's default Swagger UI loads its JavaScript from a CDN, which breaks the
playground's promise to work offline; this page needs nothing but the server.
The machine-readable schema stays at ``/openapi.json``.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

from .schemas import LIMITS

_CONSTRAINTS = [("minLength", "min length"), ("maxLength", "max length"),
                ("minItems", "min items"), ("maxItems", "max items"),
                ("minimum", "≥"), ("maximum", "≤"), ("exclusiveMinimum", ">"),
                ("exclusiveMaximum", "<")]


_RST_CODE = re.compile(r"``(.+?)``")
_MD_CODE = re.compile(r"`([^`]+)`")


def markdown_text(text: str) -> str:
    """Docstring prose as Markdown: RST's ````code```` becomes Markdown's ```code```."""
    return _RST_CODE.sub(r"`\1`", text)


def markdown_openapi(schema: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI schema with every ``summary``/``description`` in Markdown (in place).

    FastAPI copies route docstrings verbatim, and they are written in reStructuredText
    (numpydoc); OpenAPI renders Markdown, where ````x```` shows as literal backticks.
    """
    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("summary", "description") and isinstance(value, str):
                    node[key] = markdown_text(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(schema)
    return schema


def _prose(text: str) -> str:
    """Escaped HTML of Markdown-ish prose: `code` spans become <code>, the rest is text."""
    return _MD_CODE.sub(r"<code>\1</code>", html.escape(markdown_text(text), quote=False))


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref:
        return components.get(ref.rsplit("/", 1)[-1], {})
    return schema


def _type(schema: dict[str, Any], components: dict[str, Any]) -> str:
    schema = _resolve(schema, components)
    if "enum" in schema:
        return " | ".join(json.dumps(v) for v in schema["enum"])
    if "const" in schema:
        return json.dumps(schema["const"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " | ".join(_type(s, components) for s in schema[key])
    kind = schema.get("type", schema.get("title", "object"))
    if kind == "array":
        inner = _type(schema.get("items", {}), components)
        bounds = _bounds(schema)
        return f"array of ({inner}){' [' + bounds + ']' if bounds else ''}"
    bounds = _bounds(schema)
    return f"{kind}{' [' + bounds + ']' if bounds else ''}"


def _bounds(schema: dict[str, Any]) -> str:
    return ", ".join(f"{label} {schema[key]:g}" if isinstance(schema[key], float)
                     else f"{label} {schema[key]}"
                     for key, label in _CONSTRAINTS if key in schema)


def _fields(schema: dict[str, Any], components: dict[str, Any]) -> str:
    schema = _resolve(schema, components)
    props = schema.get("properties", {})
    if not props:
        return ""
    required = set(schema.get("required", []))
    rows = []
    for name, prop in props.items():
        default = "" if "default" not in prop else f"default {json.dumps(prop['default'])}"
        rows.append(
            f"<tr><td><code>{html.escape(name)}</code>{' *' if name in required else ''}</td>"
            f"<td>{html.escape(_type(prop, components))}</td><td>{html.escape(default)}</td></tr>"
        )
    doc = _prose(schema.get("description", ""))
    return (f"<p class='schema-doc'>{doc}</p><table><tr><th>field</th><th>type and limits</th>"
            f"<th>default</th></tr>{''.join(rows)}</table>")


def render_docs(openapi: dict[str, Any]) -> str:
    """The HTML of the ``/docs`` page."""
    components = openapi.get("components", {}).get("schemas", {})
    blocks = []
    for path, methods in openapi.get("paths", {}).items():
        for method, op in methods.items():
            params = "".join(
                f"<li><code>{html.escape(p['name'])}</code> ({p.get('in')}): "
                f"{html.escape(_type(p.get('schema', {}), components))}</li>"
                for p in op.get("parameters", []))
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            fields = _fields(body.get("schema", {}), components) if body else ""
            blocks.append(
                f"<section><h2><span class='m {method}'>{method.upper()}</span> "
                f"<code>{html.escape(path)}</code></h2>"
                f"<p><b>{_prose(op.get('summary', ''))}</b></p>"
                f"<p>{_prose(op.get('description', ''))}</p>"
                f"{'<ul>' + params + '</ul>' if params else ''}{fields}</section>"
            )
    limits = "".join(f"<tr><td><code>{k}</code></td><td>{v:g}</td></tr>" for k, v in LIMITS.items())
    info = openapi.get("info", {})
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{html.escape(info.get('title', 'API'))} — API</title>
<style>body{{font:15px/1.5 system-ui,sans-serif;max-width:980px;margin:24px auto;padding:0 16px;
color:#1a202c}}code{{background:#edf2f7;padding:0 4px;border-radius:4px}}section{{border-top:1px
solid #e2e8f0;padding:6px 0}}table{{border-collapse:collapse;margin:6px 0}}td,th{{border:1px solid
#e2e8f0;padding:3px 8px;text-align:left;font-size:14px}}.m{{font-size:13px;color:#fff;
padding:1px 6px;border-radius:4px}}.get{{background:#2f855a}}.post{{background:#2b6cb0}}
h2{{font-size:17px;margin:8px 0 2px}}</style></head><body>
<h1>{html.escape(info.get('title', ''))} API <small>v{html.escape(info.get('version', ''))}</small></h1>
<p>{_prose(info.get('description', ''))}</p>
<p>Machine-readable schema: <a href="/openapi.json">/openapi.json</a> · back to the
<a href="/">playground</a>. Requests are JSON; answers are JSON with finite numbers, infinities
as the strings "inf"/"-inf". Fields marked * are required.</p>
<h2>Limits</h2><table>{limits}</table>
{''.join(blocks)}</body></html>"""
