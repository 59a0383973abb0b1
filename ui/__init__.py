"""The chat web app over `rag` (Gradio): `ui.app.serve`, `ui.app.build_app`.

Importing this package switches Gradio's analytics and Hugging Face telemetry off before
Gradio itself is imported anywhere below, so the app never phones home (a test or script
must import `ui` before `gradio` for that). The modules: `app` (build_app, serve),
`page` (the Blocks: tabs, handlers and the "ask" API put together), `tabs` (one layout
builder per tab), `chat` and `library` (the tabs' event handlers, which return
`{component: value}`), `render` (pure HTML rendering, no Gradio), `export` (Markdown
exports), `assets` (the app's CSS and its small JS snippets), `security` (the ASGI
middleware that keeps the server local), `types` (the `Json` alias they share). No
retrieval or answer logic lives in this package: it calls `rag.api`.
"""

from __future__ import annotations

import os

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")
