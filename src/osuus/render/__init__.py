"""Renderers: turn an allocation into what people and programs read. No computing here."""
