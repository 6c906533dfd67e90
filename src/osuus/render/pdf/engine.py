"""Typst as the PDF engine: no browser, no network, fonts from the typst package.

A template is a `.typ` file in `templates/`; its data arrives as one JSON string
in `sys.inputs.data` (read in the template with `json(bytes(sys.inputs.data))`).
Numbers are formatted in Python before they reach the template (Finnish
"1 234,56"), so the template never rounds or formats money itself.
The typst compiler is made once per thread and per template and then reused: a
compiler is not safe to share between threads (the server renders PDFs in its
worker threads; two at once on one compiler fail with "Already borrowed").
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

TEMPLATES = Path(__file__).parent / "templates"
# A fixed creation time keeps the bytes of a document the same from run to run.
FIXED_TIMESTAMP = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)


class RenderError(RuntimeError):
    """A template failed to compile: a bug in osuus, never the user's input."""


_PER_THREAD = threading.local()


def _compiler(template: str):
    import typst

    compilers = getattr(_PER_THREAD, "compilers", None)
    if compilers is None:
        compilers = _PER_THREAD.compilers = {}
    found = compilers.get(template)
    if found is None:
        path = TEMPLATES / template
        if not path.is_file():
            raise RenderError(f"no PDF template {template}")
        fonts = getattr(_PER_THREAD, "fonts", None)
        if fonts is None:
            fonts = _PER_THREAD.fonts = typst.Fonts(include_system_fonts=False)
        found = compilers[template] = typst.Compiler(str(path), root=str(TEMPLATES), font_paths=fonts)
    return found


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    raise TypeError(f"cannot pass {type(value).__name__} to a template")


def render_pdf(template: str, data: dict[str, Any], *, timestamp: dt.datetime | None = None) -> bytes:
    """Compile `templates/<template>` with `data` and return the PDF's bytes."""
    import typst

    payload = json.dumps(data, default=_plain, ensure_ascii=False)
    try:
        out = _compiler(template).compile(format="pdf", sys_inputs={"data": payload},
                                          timestamp=timestamp or FIXED_TIMESTAMP)
    except typst.TypstError as exc:  # a template bug: say where
        raise RenderError(f"{template}: {exc.message}\n{exc.diagnostic}") from exc
    assert isinstance(out, bytes)
    return out
