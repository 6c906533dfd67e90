"""E-invoices: Finvoice 3.0 and Peppol BIS Billing 3.0 (UBL 2.1).

`osuus.einvoice.validate` checks a finished document against the official
rule sets, offline and without Java; it needs the optional extra
``pip install 'osuus[validate]'``. See docs/einvoice-validation.md.
"""
