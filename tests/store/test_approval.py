"""Four eyes, on SQLite and on PostgreSQL: an invoice run and a credit note are drafts until
someone other than their preparer approves them; only approval issues and numbers them.

- a preparer cannot approve their own draft (a one-person installation can, recorded so);
- a draft has no number, is in no table of issued documents, and cannot be exported;
- approving twice, or twice at once (two threads, each its own Ledger), issues one set;
- a rejected draft leaves nothing behind but its audit record;
- a draft whose inputs changed after it was prepared is refused until computed again;
- invoice numbers run without a gap across a rejected draft.

The ledger: the shipped 2021 agreement (21 members, each with its advance instalment every
month) and a handful of Mainio events (40 € an hour, kohta 5 of the appendix).
"""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from osuus.calendar import Period
from osuus.problems import ProblemsError
from osuus.services import approval
from osuus.services.agreements import add_agreement
from osuus.services.imports import import_events
from osuus.services.invoicing import AlreadyInvoiced
from osuus.services.ledger import Ledger
from osuus.store.tables import AuditRecord, Base, Draft, Invoice, InvoiceRun

ROOT = Path(__file__).resolve().parents[2]
AGREEMENT = ROOT / "agreements" / "pirkanmaa-2021.toml"
PREPARER, APPROVER = "valmistelija", "hyvaksyja"
MEMBERS = 21  # of the 2021 agreement: each gets an invoice every month (its advance)
JAN, FEB = Period.month(2021, 1), Period.month(2021, 2)
HEADER = "event_id,date,component,municipality,customer,quantity,integration_year,travel_days,km,interpretation_cost\n"
# Akaa (020): 2 + 1.5 hours of Mainio in January 2021, at 40 €/h: 140.00 € of events on its invoice
EVENTS = HEADER + "E-1,2021-01-11,mainio,020,A-000001,2,,,,\nE-2,2021-01-20,mainio,020,A-000002,1.5,,,,\n"
LATE = HEADER + "E-3,2021-01-28,mainio,020,A-000003,1,,,,\n"  # one hour more: 40.00 €


def code_of(call) -> list[str]:
    with pytest.raises(ProblemsError) as caught:
        call()
    return [p.code for p in caught.value.problems]


@pytest.fixture
def url(migrated_url, tmp_path) -> str:
    (tmp_path / "events.csv").write_text(EVENTS, encoding="utf-8")
    with Ledger(migrated_url, PREPARER) as ledger:
        add_agreement(ledger, AGREEMENT)
        import_events(ledger, tmp_path / "events.csv")
    return migrated_url


def counts(url: str) -> dict[str, int]:
    with Ledger(url, "reader") as ledger, ledger.read() as session:
        return {t.name: session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


def numbers(url: str) -> list[str]:
    with Ledger(url, "reader") as ledger, ledger.read() as session:
        return list(session.scalars(select(Invoice.number).order_by(Invoice.year, Invoice.sequence)))


def records(url: str) -> list[AuditRecord]:
    with Ledger(url, "reader") as ledger, ledger.read() as session:
        return list(session.scalars(select(AuditRecord).order_by(AuditRecord.id)))


def akaa_total(view) -> Decimal:
    return next(i.total for i in view.invoices if i.municipality == "020")


def test_a_preparer_cannot_approve_their_own_run(url):
    with Ledger(url, PREPARER, self_approval=False) as preparer:
        draft = approval.prepare_run(preparer, JAN, dt.date(2021, 2, 1))
        assert code_of(lambda: approval.approve(preparer, draft.id)) == ["draft.own"]
    assert numbers(url) == []
    with Ledger(url, "reader") as reader:
        assert approval.show_draft(reader, draft.id).status == "draft"

    # a one-person test installation may: the draft and the audit record say so
    with Ledger(url, PREPARER, self_approval=True) as alone:
        result = approval.approve(alone, draft.id)
    assert (result.draft.status, result.draft.approved_by, result.draft.self_approved) == \
        ("approved", PREPARER, True)
    assert len(result.run.invoices) == MEMBERS
    run = records(url)[-1]
    assert (run.action, run.subject, run.actor) == ("invoice.run", "2021-01", PREPARER)
    assert run.details["approval"]["self_approved"] is True
    assert run.details["approval"]["prepared_by"] == PREPARER


def test_another_user_approves_and_each_step_names_its_actor(url):
    with Ledger(url, PREPARER) as preparer:
        draft = approval.prepare_run(preparer, JAN, dt.date(2021, 2, 1))
        result = approval.approve(preparer.acting(APPROVER), draft.id)
    assert not result.draft.self_approved and result.draft.prepared_by == PREPARER
    assert [i.number for i in result.run.invoices] == [f"2021-{n:05d}" for n in range(1, MEMBERS + 1)]
    # what was issued is what was reviewed: Akaa's 3.5 hours at 40 € on its invoice
    assert akaa_total(result.run) == akaa_total(draft)
    akaa = next(i for i in result.run.invoices if i.municipality == "020")
    assert [line.amount for line in akaa.lines if line.kind.value == "event"] == [Decimal("140.00")]
    prepare, run = records(url)[-2:]
    assert (prepare.action, prepare.actor, prepare.details["draft"]) == ("draft.prepare", PREPARER, draft.id)
    assert prepare.details["content_hash"] == draft.content_hash
    assert (run.action, run.actor) == ("invoice.run", APPROVER)
    assert run.details["approval"] == {"draft": draft.id, "content_hash": draft.content_hash,
                                       "prepared_by": PREPARER,
                                       "prepared_at": draft.prepared_at.isoformat(timespec="microseconds")}
    with Ledger(url, "reader") as ledger, ledger.read() as session:
        row = session.get(Draft, draft.id)
        assert (row.status, row.approved_by, row.run_id) == ("approved", APPROVER,
                                                             session.scalar(select(InvoiceRun.id)))


def test_a_draft_has_no_number_and_cannot_be_exported(url, tmp_path):
    before = counts(url)
    with Ledger(url, PREPARER) as preparer:
        draft = approval.prepare_run(preparer, JAN, dt.date(2021, 2, 1))
    assert len(draft.invoices) == MEMBERS
    assert {(i.number, i.reference) for i in draft.invoices} == {("", "")}
    after = counts(url)
    assert after["drafts"] == 1
    assert {k: v for k, v in after.items() if k not in ("drafts", "audit_log")} == \
        {k: v for k, v in before.items() if k not in ("drafts", "audit_log")}  # no invoice, run, counter
    from osuus.cli import app

    out = tmp_path / "out"
    for args in (["export", "einvoice", "--period", "2021-01", "--format", "finvoice", "--output", out],
                 ["export", "pdf", "--period", "2021-01", "--output", out]):
        result = CliRunner().invoke(app, [str(a) for a in args], env={"OSUUS_DATABASE_URL": url,
                                                                      "OSUUS_USER": APPROVER})
        assert result.exit_code == 2, (args, result.stdout, result.stderr)
        assert "no invoices of period 2021-01" in result.stderr
    assert not out.exists()


def test_one_draft_of_a_period_at_a_time_and_a_period_is_invoiced_once(url):
    with Ledger(url, PREPARER) as preparer:
        draft = approval.prepare_run(preparer, JAN, dt.date(2021, 2, 1))
        with pytest.raises(ProblemsError) as caught:
            approval.prepare_run(preparer, JAN, dt.date(2021, 2, 2))
        assert caught.value.problems[0].code == "draft.exists"
        assert f"draft {draft.id}" in caught.value.problems[0].message
        # the same refusals as the run itself: the months before it first
        assert code_of(lambda: approval.prepare_run(preparer, Period.month(2021, 3), dt.date(2021, 4, 1))) == \
            ["invoice.gap"]
        approval.approve(preparer.acting(APPROVER), draft.id)
        with pytest.raises(AlreadyInvoiced) as already:
            approval.prepare_run(preparer, JAN, dt.date(2021, 2, 1))
        assert [i.number for i in already.value.run.invoices][:1] == ["2021-00001"]
    assert counts(url)["drafts"] == 1


def test_approving_twice_issues_one_set(url):
    with Ledger(url, PREPARER) as preparer:
        draft = approval.prepare_run(preparer, JAN, dt.date(2021, 2, 1))
        approver = preparer.acting(APPROVER)
        approval.approve(approver, draft.id)
        once = counts(url)
        assert code_of(lambda: approval.approve(approver, draft.id)) == ["draft.approved"]
        assert code_of(lambda: approval.reject(approver, draft.id, "too late")) == ["draft.approved"]
    assert counts(url) == once
    assert numbers(url) == [f"2021-{n:05d}" for n in range(1, MEMBERS + 1)]
    assert [r.action for r in records(url)].count("invoice.run") == 1


def test_two_approvals_at_once_issue_one_set(url, monkeypatch):
    with Ledger(url, PREPARER) as preparer:
        draft = approval.prepare_run(preparer, JAN, dt.date(2021, 2, 1))
    # the approval that issues stops for a second halfway through its invoices, its transaction open
    monkeypatch.setenv("OSUUS_FAULT_POINT", "invoice.run.middle")
    monkeypatch.setenv("OSUUS_FAULT_SLEEP", "1")
    start = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def approve_as(actor: str) -> None:
        with Ledger(url, actor) as ledger:  # each its own engine and connection
            start.wait()
            try:
                outcomes[actor] = approval.approve(ledger, draft.id)
            except ProblemsError as exc:
                outcomes[actor] = [p.code for p in exc.problems]

    threads = [threading.Thread(target=approve_as, args=(actor,)) for actor in ("hyvaksyja-a", "hyvaksyja-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(type(o).__name__ for o in outcomes.values()) == ["Approved", "list"], outcomes
    refused = next(o for o in outcomes.values() if isinstance(o, list))
    assert refused == ["draft.approved"]
    assert numbers(url) == [f"2021-{n:05d}" for n in range(1, MEMBERS + 1)]
    after = counts(url)
    assert (after["invoice_runs"], after["invoices"], after["drafts"]) == (1, MEMBERS, 1)
    assert [r.action for r in records(url)].count("invoice.run") == 1


def test_a_rejected_run_leaves_nothing_but_its_audit_record(url):
    before = counts(url)
    with Ledger(url, PREPARER) as preparer:
        draft = approval.prepare_run(preparer, JAN, dt.date(2021, 2, 1))
        approver = preparer.acting(APPROVER)
        assert code_of(lambda: approval.reject(approver, draft.id, "  ")) == ["draft.no-reason"]
        rejected = approval.reject(approver, draft.id, "Väärä laskutuspäivä")
    assert (rejected.rejected_by, rejected.prepared_by, rejected.subject) == (APPROVER, PREPARER, "2021-01")
    after = counts(url)
    assert after == {**before, "audit_log": before["audit_log"] + 2}  # the preparation and the rejection
    record = records(url)[-1]
    assert (record.action, record.subject, record.actor, record.reason) == \
        ("draft.reject", "2021-01", APPROVER, "Väärä laskutuspäivä")
    assert {k: record.details[k] for k in ("draft", "kind", "subject", "content_hash", "prepared_by")} == \
        {"draft": draft.id, "kind": "invoice_run", "subject": "2021-01", "content_hash": draft.content_hash,
         "prepared_by": PREPARER}
    with Ledger(url, APPROVER) as approver:
        assert code_of(lambda: approval.approve(approver, draft.id)) == ["draft.unknown"]
        assert approval.list_drafts(approver) == []


def test_a_draft_whose_inputs_changed_is_refused_until_computed_again(url, tmp_path):
    with Ledger(url, PREPARER) as preparer:
        draft = approval.prepare_run(preparer, JAN, dt.date(2021, 2, 1))
        assert draft.events == 2
        (tmp_path / "late.csv").write_text(LATE, encoding="utf-8")
        import_events(preparer, tmp_path / "late.csv")  # one more January event, after the draft
        approver = preparer.acting(APPROVER)
        assert code_of(lambda: approval.approve(approver, draft.id)) == ["draft.stale"]
        assert numbers(url) == []
        again = approval.recompute_draft(preparer, draft.id)
        assert again.changed is True and again.content_hash != draft.content_hash
        assert again.events == 3 and akaa_total(again) - akaa_total(draft) == Decimal("40.00")
        result = approval.approve(approver, draft.id)
    assert result.run.events_billed == 3
    assert akaa_total(result.run) == akaa_total(again)
    assert [r.action for r in records(url)][-3:] == ["import.events", "draft.recompute", "invoice.run"]


def test_invoice_numbers_run_without_a_gap_across_rejected_drafts(url):
    with Ledger(url, PREPARER) as preparer:
        approver = preparer.acting(APPROVER)
        jan = approval.approve(approver, approval.prepare_run(preparer, JAN, dt.date(2021, 2, 1)).id).run
        first = approval.prepare_run(preparer, FEB, dt.date(2021, 3, 1))
        approval.reject(approver, first.id, "Väärä päivä")
        approval.approve(approver, approval.prepare_run(preparer, FEB, dt.date(2021, 3, 2)).id)
        # a credit note: drafted, rejected, drafted again, approved
        note = approval.prepare_credit(preparer, "2021-00001", "Väärä osoite", dt.date(2021, 3, 10))
        assert code_of(lambda: approval.prepare_credit(preparer, "2021-00001", "Toinen", dt.date(2021, 3, 10))) == \
            ["draft.exists"]
        approval.reject(approver, note.id, "Väärä syy")
        note = approval.prepare_credit(preparer, "2021-00001", "Väärä laskutusosoite", dt.date(2021, 3, 10))
        assert (note.credited, [i.number for i in note.invoices], note.total) == \
            ("2021-00001", [""], -jan.invoices[0].total)
        issued = approval.approve(approver, approval.draft_id_of(approver, "2021-00001")).credit_note
        assert (issued.number, issued.credited, issued.reason) == \
            (f"2021-{2 * MEMBERS + 1:05d}", "2021-00001", "Väärä laskutusosoite")
        assert issued.total == note.total < 0
        assert code_of(lambda: approval.prepare_credit(preparer, "2021-00001", "again", dt.date(2021, 3, 11))) == \
            ["credit.twice"]
    assert numbers(url) == [f"2021-{n:05d}" for n in range(1, 2 * MEMBERS + 2)]
    record = records(url)[-1]
    assert (record.action, record.actor, record.reason) == ("invoice.credit", APPROVER, "Väärä laskutusosoite")


def test_the_command_line_drafts_and_another_user_approves(url):
    from osuus.cli import app

    def osuus(user: str, *args: str, code: int = 0) -> str:
        result = CliRunner().invoke(app, list(args), env={"OSUUS_DATABASE_URL": url, "OSUUS_USER": user,
                                                          "OSUUS_SELF_APPROVAL": None, "OSUUS_LANG": "en"})
        assert result.exit_code == code, (args, result.stdout, result.stderr, result.exception)
        return result.stdout + result.stderr

    out = osuus(PREPARER, "invoice", "2021-01", "--date", "2021-02-01")
    assert "Not issued or numbered yet" in out and "osuus approve 1" in out and "2021-00001" not in out, out
    assert "cannot approve it too" in osuus(PREPARER, "approve", "2021-01", code=2)
    assert "2021-01" in osuus(APPROVER, "drafts")
    out = osuus(APPROVER, "approve", "2021-01")
    assert f"approved by {APPROVER}, prepared by {PREPARER}" in out and "2021-00001" in out, out
    assert "No open drafts." in osuus(APPROVER, "drafts")
    assert "is invoiced already" in osuus(PREPARER, "invoice", "2021-01", "--date", "2021-02-01")


def test_approval_is_of_the_content_reviewed_and_a_recompute_by_another_changes_nothing_unchanged(url, tmp_path):
    """An approver who names the content they reviewed (the API's If-Match) approves only that
    content, checked inside the approval's transaction; recomputing a draft whose content does
    not change leaves it its preparer's (so a recompute cannot hand the four eyes to another)."""
    with Ledger(url, PREPARER) as preparer:
        draft = approval.prepare_run(preparer, JAN, dt.date(2021, 2, 1))
        approver = preparer.acting(APPROVER)
        same = approval.recompute_draft(approver, draft.id)
        assert same.changed is False and same.prepared_by == PREPARER
        (tmp_path / "late.csv").write_text(LATE, encoding="utf-8")
        import_events(preparer, tmp_path / "late.csv")
        again = approval.recompute_draft(preparer, draft.id)
        assert again.changed is True
        assert code_of(lambda: approval.approve(approver, draft.id, expected_hash=draft.content_hash)) == \
            ["draft.changed"]
        assert numbers(url) == []
        result = approval.approve(approver, draft.id, expected_hash=again.content_hash)
    assert result.run.events_billed == 3
