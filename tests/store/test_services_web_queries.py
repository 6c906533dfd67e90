"""The use cases the web app's pages read through (once queries of the pages themselves), on
SQLite and on PostgreSQL: the drafts as heads and what an approved draft issued
(services.approval), the change log filtered (services.audit), the accessibility feedback
(services.feedback), what is imported so far (services.imports), and one stored revision of an
agreement, its hash and the years a member is a party in (services.agreements).

The ledger: the shipped 2021 agreement (21 members, each invoiced every month), two hours and
a half of Mainio for Akaa (020) in January (140.00 €), January issued, its Akaa invoice
credited, February drafted and open.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from pathlib import Path

import pytest

from osuus.billing.kinds import DocumentKind
from osuus.calendar import Period
from osuus.services import approval
from osuus.services.agreements import add_agreement, agreement_hash, agreement_years, revision_allocation
from osuus.services.audit import audit_choices, audit_entries, audit_record
from osuus.services.feedback import list_feedback, save_feedback
from osuus.services.imports import ImportedYear, import_costs, import_counts, import_events, import_summary
from osuus.services.invoicing import list_invoices
from osuus.services.ledger import Ledger

ROOT = Path(__file__).resolve().parents[2]
AGREEMENT = ROOT / "agreements" / "pirkanmaa-2021.toml"
PREPARER, APPROVER = "valmistelija", "hyvaksyja"
MEMBERS = 21
JAN, FEB = Period.month(2021, 1), Period.month(2021, 2)
INVOICE = DocumentKind.INVOICE
EVENTS = ("event_id,date,component,municipality,customer,quantity,integration_year,travel_days,km,"
          "interpretation_cost\nE-1,2021-01-11,mainio,020,A-000001,2,,,,\nE-2,2021-01-20,mainio,020,A-000002,1.5,,,,\n")
# counts of 31 December describe the year after: both are 2021's
COUNTS = "key,municipality,date,value,source\nasukasluku,020,2020-12-31,16550,testi\nasukasluku,108,2020-12-31,10353,testi\n"
COSTS = "year;component;kind;amount;note\n2021;johtaminen;kustannus;100,00;testi\n"
HETU = "131052-308T"  # a valid personal identity code (the privacy tests' example)


@pytest.fixture
def ledger(migrated_url, tmp_path):
    for name, text in (("events.csv", EVENTS), ("counts.csv", COUNTS), ("costs.csv", COSTS)):
        (tmp_path / name).write_text(text, encoding="utf-8")
    with Ledger(migrated_url, PREPARER) as ledger:
        add_agreement(ledger, AGREEMENT)
        import_events(ledger, tmp_path / "events.csv")
        import_counts(ledger, tmp_path / "counts.csv")
        import_costs(ledger, tmp_path / "costs.csv")
        run = approval.prepare_run(ledger, JAN, dt.date(2021, 2, 1))
        approval.approve(ledger.acting(APPROVER), run.id)
        akaa = next(i.number for i in list_invoices(ledger, period=JAN) if i.municipality == "020")
        credit = approval.prepare_credit(ledger, akaa, "Väärä osoite", dt.date(2021, 2, 10))
        approval.approve(ledger.acting(APPROVER), credit.id)
        approval.prepare_run(ledger, FEB, dt.date(2021, 3, 1))
        yield ledger


# --- drafts ---------------------------------------------------------------------------------------

def test_the_heads_of_the_drafts_are_the_drafts_without_their_documents(ledger):
    heads = approval.draft_heads(ledger)
    whole = approval.list_drafts(ledger, approved=True)
    assert [(h.id, h.kind, h.subject, h.status) for h in heads] == [
        (whole[0].id, "invoice_run", "2021-01", "approved"), (whole[1].id, "credit_note", whole[1].subject, "approved"),
        (whole[2].id, "invoice_run", "2021-02", "draft")]
    assert [h.documents for h in heads] == [MEMBERS, 1, MEMBERS]
    for head, draft in zip(heads, whole):
        assert (head.total, head.prepared_by, head.prepared_at, head.approved_by, head.approved_at) == \
            (draft.total, draft.prepared_by, draft.prepared_at, draft.approved_by, draft.approved_at)
        assert head.prepared_at.tzinfo is not None and head.is_run == draft.is_run
    # the credit note takes back the whole of Akaa's January invoice, 140.00 € of events in it
    akaa = next(i for i in list_invoices(ledger, period=JAN) if i.municipality == "020")
    assert heads[1].total == -akaa.total and heads[1].subject == akaa.number
    assert any(line.amount == Decimal("140.00") for line in akaa.lines)


def test_the_heads_are_filtered_by_kind_subject_and_openness(ledger):
    assert [h.subject for h in approval.draft_heads(ledger, open_only=True)] == ["2021-02"]
    assert [h.subject for h in approval.draft_heads(ledger, kind="invoice_run")] == ["2021-01", "2021-02"]
    credit = approval.draft_heads(ledger, kind="credit_note")[0]
    assert approval.draft_heads(ledger, kind="credit_note", subject=credit.subject) == [credit]
    assert approval.draft_heads(ledger, kind="credit_note", subject=credit.subject, open_only=True) == []


def test_what_an_approved_draft_issued(ledger):
    run, credit, open_ = approval.list_drafts(ledger, approved=True)
    issued = approval.issued_of(ledger, run)
    assert [i.number for i in issued] == [i.number for i in list_invoices(ledger, period=JAN, kind=INVOICE)]
    assert len(issued) == MEMBERS and all(i.lines == () for i in issued)
    (note,) = approval.issued_of(ledger, credit, lines=True)
    assert note.is_credit and note.credited == credit.subject and note.total == credit.total and note.lines
    assert approval.issued_of(ledger, open_) == []


def test_the_documents_of_an_approved_draft(ledger):
    run, credit, open_ = approval.list_drafts(ledger, approved=True)
    pairs = approval.issued_documents(ledger, run, einvoice=True)
    assert [(i.number, d.number) for i, d in pairs] == [(i.number, i.number) for i in approval.issued_of(ledger, run)]
    assert all(i.lines for i, _ in pairs)  # a document is made of its lines
    (note, document), = approval.issued_documents(ledger, credit)
    assert document.number == note.number and document.credited_number == credit.subject
    assert approval.issued_documents(ledger, open_) == []


# --- the change log -------------------------------------------------------------------------------

def test_the_log_is_filtered_and_paged_newest_first(ledger):
    everything = audit_entries(ledger, limit=1000)
    ids = [e.id for e in everything.entries]
    assert ids == sorted(ids, reverse=True) and everything.total == len(ids)
    prepared = audit_entries(ledger, action="draft.prepare")
    assert prepared.total == 3 and {e.actor for e in prepared.entries} == {PREPARER}
    assert audit_entries(ledger, actor=APPROVER).total == 2  # the run and the credit note
    credit = approval.draft_heads(ledger, kind="credit_note")[0].subject  # 2021-000NN, Akaa's January invoice
    assert [e.subject for e in audit_entries(ledger, subject="2021-0", action="draft.prepare").entries] == \
        ["2021-02", credit, "2021-01"]
    assert [e.subject for e in audit_entries(ledger, subject=credit[-3:], action="draft.prepare").entries] == [credit]
    assert audit_entries(ledger, subject="%").total == 0  # a part of the subject, not a pattern
    second = audit_entries(ledger, offset=1, limit=2)
    assert [e.id for e in second.entries] == ids[1:3] and second.total == len(ids)


def test_the_log_is_filtered_by_time(ledger):
    newest = audit_entries(ledger, limit=1).entries[0]
    at = newest.at if newest.at.tzinfo else newest.at.replace(tzinfo=dt.timezone.utc)
    assert audit_entries(ledger, since=at).total == 1
    everything = audit_entries(ledger).total
    assert audit_entries(ledger, before=at).total == everything - 1
    assert audit_entries(ledger, since=at + dt.timedelta(seconds=1)).total == 0


def test_the_choices_and_one_record_whole(ledger):
    actions, actors = audit_choices(ledger)
    assert actors == sorted([APPROVER, PREPARER])
    assert {"agreement.add", "import.events", "draft.prepare", "invoice.run", "invoice.credit"} <= set(actions)
    assert actions == sorted(actions)
    second, first = audit_entries(ledger, limit=1000).entries[-2:]  # the log's first two records
    added = audit_record(ledger, first.id)
    assert (added.id, added.action, added.actor, added.hash) == (first.id, "agreement.add", PREPARER, first.hash)
    assert (added.details["year"], added.details["revision"], added.details["file"]) == (2021, 1, AGREEMENT.name)
    imported = audit_record(ledger, second.id)
    assert imported.action == "import.events" and imported.prev_hash == first.hash
    assert audit_record(ledger, 10**9) is None


# --- the accessibility feedback -------------------------------------------------------------------

def test_feedback_is_kept_masked_and_read_back_newest_first(ledger):
    outside = save_feedback(ledger, f"Kontrasti on heikko, {HETU}", "", "", "fi")
    inside = save_feedback(ledger, "Fokus katoaa", "posti@example.org", "default", "sv")
    found = list_feedback(ledger, "default")
    assert [f.id for f in found] == [inside, outside]
    assert (found[0].area, found[0].contact, found[0].language) == ("default", "posti@example.org", "sv")
    assert (found[1].area, found[1].contact) == ("", "")
    assert HETU not in found[1].message and found[1].message.startswith("Kontrasti on heikko, 131052-")
    assert found[0].at.tzinfo is not None
    assert [f.id for f in list_feedback(ledger, "lappi")] == [outside]
    assert [f.id for f in list_feedback(ledger, "default", limit=1)] == [inside]


# --- imports --------------------------------------------------------------------------------------

def test_what_is_imported_so_far(ledger):
    summary = import_summary(ledger)
    assert summary.years == (ImportedYear(2021, events=2, counts=2, costs=1),)
    assert [(f.kind, f.file, f.rows, f.added, f.by) for f in summary.files] == [
        ("costs", "costs.csv", 1, 1, PREPARER), ("counts", "counts.csv", 2, 2, PREPARER),
        ("events", "events.csv", 2, 2, PREPARER)]
    assert all(f.at.tzinfo is not None for f in summary.files)
    assert [f.kind for f in import_summary(ledger, recent=1).files] == ["costs"]


# --- agreements -----------------------------------------------------------------------------------

def test_a_stored_revision_its_hash_and_a_members_years(ledger):
    expected = hashlib.sha256(AGREEMENT.read_text(encoding="utf-8").encode("utf-8")).hexdigest()
    assert agreement_hash(ledger, 2021) == expected and agreement_hash(ledger, 2022) == ""
    allocation = revision_allocation(ledger, 2021, 1)
    assert allocation.agreement.year == 2021 and len(allocation.agreement.members) == MEMBERS
    assert revision_allocation(ledger, 2021, 2) is None and revision_allocation(ledger, 2022, 1) is None
    assert agreement_years(ledger) == [2021]
    assert agreement_years(ledger, "020") == [2021] and agreement_years(ledger, "999") == []
