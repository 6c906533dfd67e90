"""Typst as the PDF engine: no browser, no network, fonts from the typst package.

A template is a `.typ` file in `templates/`; its data arrives as one JSON string
in `sys.inputs.data` (read in the template with `json(bytes(sys.inputs.data))`).
Numbers are formatted in Python before they reach the template (Finnish
"1 234,56"), so the template never rounds or formats money itself.
The typst compiler is made once per process and per template and then reused.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

TEMPLATES = Path(__file__).parent / "templates"
# A fixed creation time keeps the bytes of a document the same from run to run.
FIXED_TIMESTAMP = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)


class RenderError(RuntimeError):
    """A template failed to compile: a bug in osuus, never the user's input."""


@lru_cache(maxsize=None)
def _compiler(template: str):
    import typst

    path = TEMPLATES / template
    if not path.is_file():
        raise RenderError(f"no PDF template {template}")
    return typst.Compiler(str(path), root=str(TEMPLATES), font_paths=typst.Fonts(include_system_fonts=False))


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
