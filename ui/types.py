"""The JSON objects the web app's modules pass around: `Json`, declared once for all of them.

`Json` is what is JSON where it meets the app: the "ask" endpoint's answer object
(`Answer.to_json()`), a turn of a saved conversation file, an article dict of
`rag.api.document()` / `documents()`, a chat message, an event's data. Answers inside the
app are `rag.types.Answer`s. No Gradio here, so the pure renderers can share it (the
handlers' `Updates` type lives in `ui.tabs`, beside Gradio).

Left out: the shape of those objects (CONTRACT.md and `rag.types` define it).
"""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]
