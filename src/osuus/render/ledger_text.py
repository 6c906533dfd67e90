"""What the ledger commands print on the terminal, in the reader's language.

Each function takes a use case's result and returns text: a sentence of what was
done and a table (osuus.render.terminal.TextTable) fitted to the terminal.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Callable, Iterable

from osuus.agreement.model import Agreement
from osuus.privacy import shown_count
from osuus.render.explain import Explainer
from osuus.render.formats import formats
from osuus.render.i18n import catalogue
from osuus.render.terminal import TextTable, plain
from osuus.render.words import basis_text, document_kind, unit_text

ZERO = Decimal(0)


class LedgerText:
    def __init__(self, lang: str = "fi", width: int | None = None):
        self.lang = lang
        self.c = catalogue(lang)
        self.f = formats(lang)
        self.width = width

    def t(self, key: str, /, **params) -> str:
        return plain(self.c.t(f"cli.{key}", **params))

    def table(self, title: str, header: list[str], rows: list[list[str]], total: list[str] | None = None) -> str:
        table = TextTable(title, header, rows + ([total] if total else []), total_rows=1 if total else 0)
        return table.render(self.width)

    def money(self, value: Decimal | None) -> str:
        return "" if value is None else self.f.amount(value)

    # agreements, imports, database -----------------------------------------------

    def agreement_added(self, result) -> str:
        a = result.agreement
        if result.created:
            return self.t("agreement.added", id=a.agreement_id, year=a.year, revision=a.revision, sha=a.sha256[:12])
        return self.t("agreement.same", id=a.agreement_id, year=a.year, revision=a.revision)

    def agreements(self, views) -> str:
        rows = [[str(v.year), str(v.revision), v.agreement_id, v.file_name, v.sha256[:12],
                 v.added_at.strftime("%Y-%m-%d %H:%M"), v.added_by] for v in views]
        return self.table(self.t("agreement.list_title"),
                          [self.t(f"agreement.col.{k}") for k in ("year", "revision", "agreement", "file", "sha",
                                                                  "added", "added_by")], rows)

    def imported(self, result) -> str:
        if not result.created:
            return self.t("import.same_file", file=result.file)
        if result.added == 0:
            return plain(self.c.n("cli.import.nothing_new", result.rows, file=result.file))
        return plain(self.c.n("cli.import.done", result.rows, file=result.file, added=result.added))

    def upgraded(self, name: str, before: str | None, after: str | None) -> str:
        if before == after:
            return self.t("db.up_to_date", db=name, revision=after)
        return self.t("db.upgraded", db=name, before=before or self.t("db.empty"), after=after)

    # invoices ---------------------------------------------------------------------

    def invoices(self, title: str, invoices, name_of: Callable[[str], str]) -> str:
        rows = [[i.number, document_kind(i.kind, self.lang), name_of(i.municipality), i.period.code,
                 i.issue_date.isoformat(), i.due_date.isoformat(), _reference(i.reference), self.f.amount(i.total)]
                for i in invoices]
        total = [self.t("total"), "", "", "", "", "", "", self.f.amount(sum((i.total for i in invoices), ZERO))]
        return self.table(title, [self.t(f"invoice.col.{k}") for k in ("number", "kind", "municipality", "period",
                                                                       "date", "due", "reference", "sum")],
                          rows, total if rows else None)

    def run(self, result, name_of: Callable[[str], str]) -> str:
        e = Explainer(None, self.lang)
        if not result.created:
            head = self.t("invoice.already", period=result.period.code, date=result.run_at.strftime("%Y-%m-%d"))
        else:
            head = self.t("invoice.done", period=e.period(result.period.code),
                          invoices=self.c.n("cli.invoice.count", len(result.invoices)),
                          events=self.c.n("cli.invoice.events", result.events_billed))
        out = head + "\n" + self.invoices(self.t("invoice.title_period", period=result.period.code),
                                          result.invoices, name_of)
        if result.checkpoint is not None:
            from osuus.render.audit_text import AuditText

            out += AuditText(self.lang).checkpoint_line(result.checkpoint) + "\n"
        return out

    def credited(self, note) -> str:
        return self.t("credit.done", note=note.number, invoice=note.credited, total=self.f.money(note.total))

    # drafts (four eyes) ------------------------------------------------------------------

    def _when(self, at) -> str:
        return at.strftime("%Y-%m-%d %H:%M") if at is not None else ""

    def draft(self, view, name_of: Callable[[str], str]) -> str:
        """A draft: what it would issue (no numbers), who prepared it, and how to approve it."""
        total = self.f.money(view.total)
        if view.is_run:
            e = Explainer(None, self.lang)
            head = [self.t("draft.run_head", id=view.id, period=e.period(view.period.code), total=total,
                           invoices=self.c.n("cli.invoice.count", len(view.invoices)),
                           events=self.c.n("cli.invoice.events", view.events))]
            if view.allowed_gap:
                head.append(self.t("draft.gap", periods=", ".join(view.allowed_gap)))
        else:
            head = [self.t("draft.credit_head", id=view.id, invoice=view.credited, total=total, reason=view.reason)]
        head.append(self.t("draft.prepared", user=view.prepared_by, at=self._when(view.prepared_at)))
        if view.status == "approved":
            head.append(self.t("draft.approved", user=view.approved_by or "", at=self._when(view.approved_at)))
            if view.self_approved:
                head.append(self.t("draft.self_approved", setting="OSUUS_SELF_APPROVAL"))
        rows = [[document_kind(i.kind, self.lang), name_of(i.municipality), i.period.code, i.issue_date.isoformat(),
                 i.due_date.isoformat(), self.f.amount(i.total)] for i in view.invoices]
        total_row = [self.t("total"), "", "", "", "", self.f.amount(view.total)]
        table = self.table(self.t("draft.title", id=view.id, subject=view.subject),
                           [self.t(f"invoice.col.{k}") for k in ("kind", "municipality", "period", "date", "due",
                                                                 "sum")], rows, total_row if rows else None)
        out = "\n".join(head) + "\n" + table
        if view.status == "draft":
            out += self.t("draft.next", id=view.id) + "\n"
        return out

    def drafts(self, views) -> str:
        if not views:
            return self.t("draft.none") + "\n"
        rows = [[str(v.id), self.t(f"draft.kind.{v.kind}"), v.subject, str(len(v.invoices)), self.f.amount(v.total),
                 self.t(f"draft.status.{v.status}"), v.prepared_by, self._when(v.prepared_at)] for v in views]
        return self.table(self.t("draft.list_title"),
                          [self.t(f"draft.col.{k}") for k in ("id", "kind", "subject", "documents", "sum", "status",
                                                              "prepared_by", "prepared_at")], rows)

    def recomputed(self, view, name_of: Callable[[str], str]) -> str:
        head = self.t("draft.recomputed" if view.changed else "draft.recomputed_same", id=view.id)
        return head + "\n" + self.draft(view, name_of)

    def approved(self, result, name_of: Callable[[str], str]) -> str:
        """An approved draft: who approved whose draft, then what was issued (as `invoice` and
        `credit` printed it before drafts)."""
        d = result.draft
        out = self.t("draft.approve_done", id=d.id, approver=d.approved_by or "", preparer=d.prepared_by) + "\n"
        if d.self_approved:
            out += self.t("draft.self_approved", setting="OSUUS_SELF_APPROVAL") + "\n"
        if result.run is not None:
            return out + self.run(result.run, name_of)
        return out + self.credited(result.credit_note) + "\n"

    def rejected(self, result) -> str:
        return self.t("draft.rejected", id=result.id, subject=result.subject, reason=result.reason)

    # the year -----------------------------------------------------------------------

    def estimate(self, result, agreement: Agreement) -> str:
        first = result.estimates[0] if result.estimates else None
        out = [self.t("estimate.stored" if result.created else "estimate.same", year=result.year,
                      revision=result.revision),
               self.t("estimate.basis", basis=basis_text(result.basis, result.year, agreement, self.lang,
                                                         first.issued_basis if first else None))]
        columns = list(dict.fromkeys(p.id for e in result.estimates for p in e.parts))  # every part any member has
        values = [{p.id: p.amount for p in e.parts} for e in result.estimates]
        rows = [[agreement.name_of(e.municipality, self.lang), *(self.f.amount(v.get(c, ZERO)) for c in columns),
                 self.f.amount(e.amount)] for e, v in zip(result.estimates, values)]
        total = [self.t("total"), *(self.f.amount(sum((v.get(c, ZERO) for v in values), ZERO)) for c in columns),
                 self.f.amount(sum((e.amount for e in result.estimates), ZERO))]
        out.append(self.table(self.t("estimate.title", year=result.year),
                              [self.t("col.municipality"), *(agreement.label_of(c, self.lang) for c in columns),
                               self.t("total")], rows, total).rstrip("\n"))
        return "\n".join(out) + "\n"

    def closed(self, result, agreement: Agreement) -> str:
        head = self.t("close.done" if result.created else "close.already", year=result.year)
        rows = [[agreement.name_of(s.municipality, self.lang), self.f.amount(s.actual), self.f.amount(s.billed),
                 self.f.amount(s.difference)] for s in result.settlements]
        total = [self.t("total"), *(self.f.amount(sum((getattr(s, k) for s in result.settlements), ZERO))
                                    for k in ("actual", "billed", "difference"))]
        return head + "\n" + self.table(self.t("close.title", year=result.year),
                                        [self.t("col.municipality"), self.t("close.col.actual"),
                                         self.t("close.col.billed"), self.t("close.col.settlement")], rows, total)

    def report(self, r, agreement: Agreement) -> str:
        out = ["", self.t("report.title", year=r.year, name=agreement.name_of(r.municipality, self.lang),
                          code=r.municipality),
               self.t("report.customers", count=shown_count(r.customers))]
        out.append(self.table(self.t("report.services"),
                              [self.t(f"report.col.{k}") for k in ("service", "events", "quantity", "unit",
                                                                   "customers")],
                              [[agreement.label_of(x.component, self.lang), str(x.events), self.f.count(x.quantity),
                                unit_text(x.unit, self.lang), shown_count(x.customers)] for x in r.services]).rstrip())

        def label(m) -> str:
            text = agreement.label_of(m.id, self.lang)
            return self.c.t("report.estimate_only", item=text) if m.estimate_only else text

        out.append(self.table(self.t("report.money"),
                              [self.t(f"report.col.{k}") for k in ("item", "estimate", "billed", "actual")],
                              [[label(m), self.money(m.estimate), self.f.amount(m.billed), self.money(m.actual)]
                               for m in r.money],
                              [self.t("total"), self.money(r.estimate), self.f.amount(r.billed),
                               self.money(r.actual)]).rstrip())
        out.append(self.t("report.travel", amount=self.f.amount(r.travel_and_interpretation)))
        if r.settlement is None:
            out.append(self.t("report.open"))
        else:
            documents = ", ".join(f"{n} ({self.f.money(a)})" for n, a in r.settlement_documents)
            if not r.settlement_documents:
                where = self.t("report.next")
            elif r.settlement_open:
                where = self.t("report.on_and_open", documents=documents, open=self.f.money(r.settlement_open))
            else:
                where = self.t("report.on", documents=documents)
            direction = self.c.t("line.settlement.charge" if r.settlement > 0 else "line.settlement.credit_direction")
            out.append(self.t("report.settlement", amount=self.f.amount(r.settlement), direction=direction,
                              where=where))
        return "\n".join(out) + "\n"

    # audit --------------------------------------------------------------------------

    def audit_log(self, records: Iterable) -> str:
        rows = [[str(r.id), r.at.strftime("%Y-%m-%d %H:%M:%S"), r.actor, r.action, r.subject, r.reason, r.hash[:12]]
                for r in records]
        return self.table(self.t("audit.title"), [self.t(f"audit.col.{k}") for k in ("id", "at", "actor", "action",
                                                                                     "subject", "reason", "hash")],
                          rows)


def _reference(reference: str) -> str:
    from osuus.ids import viitenumero

    return viitenumero.format(reference)
