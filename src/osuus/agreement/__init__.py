"""The agreement of a year: its file format (read), its model and its checks."""

from osuus.agreement.load import load_agreement, parse_agreement, read_stored
from osuus.agreement.model import Agreement

__all__ = ["Agreement", "load_agreement", "parse_agreement", "read_stored"]
