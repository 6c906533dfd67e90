"""Issuing in tests that build a ledger through the use cases: each run and credit note is
drafted by the ledger's actor and approved by another user (four eyes, osuus.services.approval)."""

from __future__ import annotations

import datetime as dt

from osuus.calendar import Period
from osuus.services import approval
from osuus.services.invoicing import RunResult
from osuus.services.ledger import Ledger
from osuus.services.views import InvoiceView

APPROVER = "hyvaksyja"


def invoice_period(ledger: Ledger, period: Period, issue_date: dt.date, *, allow_gap: bool = False) -> RunResult:
    """The period's run, drafted and approved: what `osuus invoice` then `osuus approve` issue."""
    draft = approval.prepare_run(ledger, period, issue_date, allow_gap=allow_gap)
    return approval.approve(ledger.acting(APPROVER), draft.id).run


def credit_invoice(ledger: Ledger, number: str, reason: str, issue_date: dt.date) -> InvoiceView:
    """The credit note of invoice `number`, drafted and approved."""
    draft = approval.prepare_credit(ledger, number, reason, issue_date)
    return approval.approve(ledger.acting(APPROVER), draft.id).credit_note
