"""One self-contained HTML file for a trace: the widget's bundle inlined, the view model as JSON, no network.

The same bundle the notebook widget runs (Graphviz compiled to WebAssembly inside it) mounts itself on the page,
so the file keeps every interaction (stepping, details, collapse, search) and opens from ``file://`` offline.
"""

from __future__ import annotations

import html
import json
import os
from pathlib import Path
from typing import Any

__all__ = ["save_html", "html_document", "bundle_text", "BUNDLE"]

BUNDLE = Path(__file__).with_name("static") / "widget.js"


def bundle_text() -> str:
    """The built widget bundle; a clear error saying how to build it when it is missing."""
    try:
        return BUNDLE.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(
            f"the gradviz widget bundle {BUNDLE} is missing: it is built from js/ when the package is installed. "
            "From a source checkout run `pip install -e .` again, or build it by hand with "
            "`cd js && npm ci && node build.mjs` (needs Node.js and npm)."
        ) from None


def script_json(data: Any) -> str:
    """JSON that is safe inside a <script> element: no ``<`` at all, so neither ``</script>`` nor ``<!--``."""
    text = json.dumps(data, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
    # Inside JSON, < > & only occur in strings, where \\u escapes mean the same characters.
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _inline_script(js: str) -> str:
    """Module text that cannot end its <script> element early (esbuild already escapes these in strings)."""
    lowered = js.lower()
    if "</script" in lowered or "<!--" in lowered:
        js = js.replace("</script", "<\\/script").replace("</SCRIPT", "<\\/SCRIPT").replace("<!--", "<\\!--")
    return js


def html_document(view_model: dict, title: str | None = None) -> str:
    """The HTML text for a view model (see gradviz.render.model)."""
    name = title if title is not None else f"gradviz: grad of {view_model.get('function', '?')}"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(name)}</title>
<style>
body {{ margin: 16px; background: #f4f6f8; }}
h1.gradviz-page-title {{ font: 600 16px system-ui, sans-serif; color: #37474f; margin: 0 0 8px; }}
</style>
</head>
<body>
<h1 class="gradviz-page-title">{html.escape(name)}</h1>
<div id="gradviz-view" data-gradviz-model="gradviz-model"></div>
<script type="application/json" id="gradviz-model">{script_json(view_model)}</script>
<script type="module">
{_inline_script(bundle_text())}
</script>
</body>
</html>
"""


def save_html(trace: Any, path: str | os.PathLike, budget: int = 300, title: str | None = None) -> str:
    """Write the trace's interactive view to ``path`` as one HTML file; returns the path written.

    ``trace`` is a Trace (or an already built view model dict).
    """
    if isinstance(trace, dict):
        view_model = trace
    else:
        from .model import browser_model

        view_model = browser_model(trace, budget=budget)  # the wire form for a big trace (js/src/decode.js)
    text = html_document(view_model, title)
    path = os.fspath(path)
    Path(path).write_text(text, encoding="utf-8")
    return path
