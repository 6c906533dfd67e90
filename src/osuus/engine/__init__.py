"""The pure core: an agreement in, an allocation with its explanation out."""

from osuus.engine.allocate import Allocation, ComponentResult, Row, TableResult, allocate
from osuus.engine.trace import Figure

__all__ = ["Allocation", "ComponentResult", "Figure", "Row", "TableResult", "allocate"]
