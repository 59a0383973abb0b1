"""The JSON objects the web app's modules pass around: `Json`, declared once for all of them.

`Json` is a CONTRACT answer object (`Answer.to_json()`), one of its citations or passages,
or an article dict of `rag.api.document()` / `documents()`. No Gradio here, so the pure
renderers can share it (the handlers' `Updates` type lives in `ui.tabs`, beside Gradio).

Left out: the shape of those objects (CONTRACT.md and `rag.types` define it).
"""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]
