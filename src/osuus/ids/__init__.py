"""Identifiers osuus needs beyond python-stdnum (business IDs, IBAN and RF references come from python-stdnum directly)."""
