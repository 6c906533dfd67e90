"""A member municipality's own first page: its latest invoices and credit notes, its estimate,
its annual report, and the agreement's published tables — nothing of another member.

Every figure here is read for the member's own municipality (`Page.member`): the invoices
through the use case's municipality filter, the estimate and the report by its code. The
agreement's published tables are the one thing of the other members a member sees, and they
are on the agreement's page, linked from here.
"""

from __future__ import annotations

from fastapi import APIRouter

from osuus.web.app import PageRoute
from osuus.web.context import Page

router = APIRouter(route_class=PageRoute)

#: How many of the member's newest documents its first page lists.
LATEST = 6


def latest_documents(p: Page, code: str) -> tuple[list[dict], int]:
    """The member's newest invoices and credit notes (newest first), and how many it has in all."""
    from osuus.api.common import agreements_of
    from osuus.render.explain import Explainer
    from osuus.render.words import document_kind
    from osuus.services.invoicing import invoice_page

    total = invoice_page(p.reader, municipality=code, limit=0, lines=False).total
    found = invoice_page(p.reader, municipality=code, offset=max(0, total - LATEST), limit=LATEST, lines=False)
    agreements = agreements_of(p.reader, {i.agreement_year for i in found.invoices})
    rows = []
    for invoice in reversed(found.invoices):
        if invoice.municipality != code:  # the filter above holds; never show another member's document
            continue
        explainer = Explainer(agreements.get(invoice.agreement_year), p.lang)
        rows.append({"number": invoice.number, "url": p.url(f"invoices/{invoice.number}"),
                     "kind": document_kind(invoice.kind, p.lang), "period": explainer.period(invoice.period.code),
                     "issue_date": p.fmt.date(invoice.issue_date), "due_date": p.fmt.date(invoice.due_date),
                     "total": p.fmt.money(invoice.total)})
    return rows, total


def estimates_of(p: Page, code: str, years: list[int]) -> list[dict]:
    """The member's estimate of each of `years` that has one (the newest revision)."""
    from osuus.services.estimates import latest_estimates
    from osuus.web.pages.home import HELSINKI, aware, link_to

    out = []
    for year in years:
        found = latest_estimates(p.reader, year, code)
        if found:
            estimate = found[0]
            made = aware(estimate.created_at).astimezone(HELSINKI).date() if estimate.created_at else None
            out.append({"year": year, "amount": p.fmt.money(estimate.amount), "revision": estimate.revision,
                        "made": p.fmt.date(made), "url": link_to(p, f"estimates/{year}/{code}"),
                        "pdf": link_to(p, f"estimates/{year}/{code}.pdf")})
    return out


def member_home(p: Page, year: int, years: list[int]):
    """The member's first page for `year` (the year chooser's)."""
    from osuus.api.common import agreement_of
    from osuus.web.pages.home import link_to

    code = p.member
    agreement = agreement_of(p.reader, year)
    name = agreement.name_of(code, p.lang) if agreement is not None else code
    in_agreement = agreement is not None and agreement.year == year and agreement.by_code(code) is not None
    documents, total = latest_documents(p, code)
    return p.render("member/home.html", year=year, years=years, name=name, code=code, documents=documents,
                    total=total, invoices_url=link_to(p, "invoices"),
                    estimates=estimates_of(p, code, [year + 1, year]),
                    report_url=link_to(p, f"reports/{year}/{code}") if in_agreement else "",
                    reports_url=link_to(p, "reports"),
                    agreement_url=link_to(p, f"agreement/{year}" if in_agreement else "agreement")
                    if agreement is not None else "")
