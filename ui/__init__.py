"""The chat web app over `rag` (Gradio): `ui.app.serve`, `ui.app.build_app`.

Importing this package switches Gradio's analytics and Hugging Face telemetry off before
Gradio itself is imported anywhere below, so the app never phones home. The modules:
`app` (build_app, serve), `blocks` (the Gradio layout and its event handlers), `render`
(pure HTML and Markdown rendering, no Gradio), `assets` (the app's CSS and two small JS
snippets), `security` (the ASGI middleware that keeps the server local). No retrieval or
answer logic lives in this package: it calls `rag.api`.
"""

from __future__ import annotations

import os

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")
