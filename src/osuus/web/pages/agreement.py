"""The agreement: Taulukko 1 and 2 as on paper, each euro a link to its explanation (formula
with the numbers, inputs, clause), the tables as xlsx and as the appendix PDF, and a year's
revisions side by side.

Everyone with a role in the area reads these pages: for a member the published tables are the
one thing it sees of the other members. Explanations are of its own row only (as the API's
`/agreements/{year}/explain/{municipality}`); the component totals above the rows are published
figures and explained to everyone.

A figure is named in the address as `<table>.<component>` (a municipality's part of a
component), `<table>.row-total`, `.row-reduction`, `.row-absorbed`, `.row-payment` (the row's
sums), or `component-total.<component>` (what a component costs in all). Ids of the agreement
are `[a-z][a-z0-9_]*`, so the hyphenated names never collide with them.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from osuus.access import Action, Resource
from osuus.web.app import PageRoute
from osuus.web.context import Page, PageError, page

router = APIRouter(route_class=PageRoute)

READ = page(Resource.AGREEMENTS, Action.READ)
FIRST_YEAR, LAST_YEAR = 1900, 2200
ROW_PARTS = ("row-total", "row-reduction", "row-absorbed", "row-payment")
COMPONENT_TOTAL = "component-total"


# --- reading the ledger --------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Stored:
    """A year's agreement as stored: every revision of the year, the one shown, its allocation."""

    versions: tuple  # AgreementView of the year, oldest first
    shown: Any  # the AgreementView shown
    allocation: Any  # osuus.engine.Allocation of the revision shown

    @property
    def newest(self) -> int:
        return self.versions[-1].revision

    @property
    def agreement(self):
        return self.allocation.agreement


def _all_versions(reader) -> list:
    from osuus.services.agreements import list_agreements

    return list_agreements(reader)


def _year(year: int) -> int:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise PageError(404, "web.error.not_found")
    return year


def _revision(text: str | None, versions) -> int:
    """The revision asked for (`?revision=N`), else the newest; one not stored is not found."""
    if text is None or text == "":
        return versions[-1].revision
    if not (text.isascii() and text.isdigit()) or not any(v.revision == int(text) for v in versions):
        raise PageError(404, "web.error.not_found")
    return int(text)


def load(reader, year: int, revision: str | None = None) -> Stored:
    from osuus.services.agreements import revision_allocation

    versions = tuple(v for v in _all_versions(reader) if v.year == year)
    if not versions:
        raise PageError(404, "web.error.not_found")
    number = _revision(revision, versions)
    shown = next(v for v in versions if v.revision == number)
    return Stored(versions, shown, revision_allocation(reader, year, number))


# --- the tables ----------------------------------------------------------------------------------

def _cell_text(cell, places: int, f) -> str:
    from osuus.render.layout import EUR, EUR2
    from osuus.render.terminal import format_cell

    if isinstance(cell.value, Decimal) and cell.kind == EUR:
        return f.money(cell.value, places)
    if isinstance(cell.value, Decimal) and cell.kind == EUR2:
        return f.money(cell.value, 2)
    return format_cell(cell, places, f)


class Tables:
    """The appendix's layout (osuus.render.layout, as the terminal, xlsx and PDF show it) for a
    page: every cell formatted in the reader's language, each euro that is a municipality's
    figure (or a component's total) with the address of its explanation."""

    def __init__(self, p: Page, stored: Stored):
        from osuus.render.i18n import catalogue

        self.p = p
        self.stored = stored
        self.allocation = stored.allocation
        self.agreement = stored.agreement
        self.places = self.agreement.shown.places
        self.words = catalogue(p.lang)

    def word(self, key: str, **params) -> str:
        return self.words.t(f"layout.{key}", **params)

    def explain_url(self, municipality: str, figure: str) -> str:
        return explain_url(self.p, self.stored, municipality, figure)

    def link(self, municipality: str, figure: str) -> str | None:
        return self.explain_url(municipality, figure) if self.p.sees(municipality) else None

    def sheets(self) -> list[dict]:
        from osuus.render.layout import layout

        out = []
        for sheet, result in zip(layout(self.allocation, self.p.lang), self.allocation.tables):
            blocks = [self.block(sheet.id, n, block, result) for n, block in enumerate(sheet.blocks)]
            out.append({"id": sheet.id, "caption": sheet.caption, "title": sheet.title,
                        "reference": sheet.reference, "blocks": blocks})
        return out

    def block(self, sheet_id: str, index: int, block, result) -> dict:
        links = self.links_of(block, result)
        rows = []
        last_data = len(block.rows) - block.total_rows
        for r, row in enumerate(block.rows):
            label_cell, *cells = row
            code = links.get(("row", r))
            rows.append({
                "label": _cell_text(label_cell, self.places, self.p.fmt),
                "label_url": self.link(code, "") if code else None,
                "total": r >= last_data,
                "cells": [{"text": _cell_text(c, self.places, self.p.fmt), "number": c.is_number or c.value == "-",
                           "url": links.get((r, i + 1))} for i, c in enumerate(cells)],
            })
        return {"id": f"{sheet_id}-{index + 1}", "title": block.title, "header": block.header, "rows": rows}

    def links_of(self, block, result) -> dict:
        """(row, column) → the explanation's address of the cells of `block` that have one;
        ("row", row) → the municipality of a row (its name links to all its figures)."""
        table = result.table
        agreement = self.agreement
        if block.title == self.word("costs"):
            return self.pool_links(block, result)
        if block.title == self.word("payments_of_year", year=agreement.year):
            rows = [r for r in result.rows if table.host_row == "inline" or r.municipality != agreement.host]
            out: dict = {}
            columns = self.row_columns(block, table)
            for n, row in enumerate(rows):
                out[("row", n)] = row.municipality
                for column, figure in columns.items():
                    if row.municipality and block.rows[n][column].is_number:
                        url = self.link(row.municipality, f"{table.id}.{figure}")
                        if url:
                            out[(n, column)] = url
            return out
        if block.title == self.word("shares_total") and len(block.rows) == 3:
            host = agreement.host  # rows: the members together, the host's share, the total
            out = {}
            columns = {c: table.components[i] for i, c in enumerate(block.detail_columns)}
            columns[len(block.header) - 1] = "row-payment"
            for column, figure in columns.items():
                url = self.link(host, f"{table.id}.{figure}")
                if url:
                    out[(1, column)] = url
            return out
        return {}

    def pool_links(self, block, result) -> dict:
        """The cost, overhead and total of each pooled component: its total's explanation (the
        members' informative share of it is not a figure of its own)."""
        from osuus.agreement.model import PoolComponent

        table = result.table
        pools = [c for c in table.components if isinstance(self.agreement.components[c], PoolComponent)]
        share = table.members_share and self.agreement.parameters.get(table.members_share)
        last = len(block.header) - (1 if share else 0)
        out = {}
        for n, component in enumerate(pools):
            for column in range(1, last):
                out[(n, column)] = self.explain_url("", f"{COMPONENT_TOTAL}.{component}")
        return out

    def row_columns(self, block, table) -> dict[int, str]:
        """The columns of a table's rows that are a municipality's figures, by their headers."""
        columns = {c: table.components[i] for i, c in enumerate(block.detail_columns)}
        after = (block.detail_columns[-1] + 1) if block.detail_columns else None
        if after is not None and after < len(block.header):
            columns[after] = "row-total"
        for n, head in enumerate(block.header):
            if head == self.word("reduction_eur"):
                columns[n] = "row-reduction"
            elif head == self.word("absorbed_eur"):
                columns[n] = "row-absorbed"
            elif head == self.word("payments"):
                columns[n] = "row-payment"
        return columns


def explain_url(p: Page, stored: Stored, municipality: str, figure: str) -> str:
    query = {}
    if municipality:
        query["municipality"] = municipality
    if figure:
        query["figure"] = figure
    if stored.shown.revision != stored.newest:
        query["revision"] = stored.shown.revision
    return p.url(f"agreement/{stored.shown.year}/explain") + "?" + urlencode(query)


# --- explanations --------------------------------------------------------------------------------

def find_figure(allocation, municipality: str, figure: str):
    """(table or None, the figure with its inputs) named by `figure` for `municipality`."""
    if figure.startswith(COMPONENT_TOTAL + "."):
        component = allocation.components.get(figure[len(COMPONENT_TOTAL) + 1:])
        if component is None:
            raise PageError(404, "web.error.not_found")
        return None, component.total
    table_id, _, part = figure.partition(".")
    try:
        result = allocation.table(table_id)
        row = result.row(municipality)
    except KeyError:
        raise PageError(404, "web.error.not_found") from None
    if part in result.table.components:
        return result, row.figures[part]
    chain = row.chain()  # invoiced ← payment ← (total ← the parts), reduction, absorbed
    payment = chain.inputs[0]
    total = payment.inputs[0]
    found = {"row-total": total, "row-reduction": row.reduction, "row-absorbed": row.absorbed,
             "row-payment": payment}.get(part)
    if found is None:
        raise PageError(404, "web.error.not_found")
    return result, found


def figure_tree(explainer, figures, shown_as=None) -> list[dict]:
    """Each figure and its inputs as nested items; an input already shown above is marked, not
    repeated (as `osuus explain` does)."""
    seen: set[int] = set()

    def node(fig, top: bool) -> dict:
        repeated = id(fig) in seen and bool(fig.inputs)
        seen.add(id(fig))
        return {"label": explainer.label(fig), "formula": explainer.formula(fig),
                "value": explainer.value(fig.value, fig.unit), "reference": fig.reference or "",
                "rule": explainer.rule(fig),
                "note": (shown_as(fig) if top and shown_as else "") or "", "repeated": repeated,
                "inputs": [] if repeated else [node(child, False) for child in fig.inputs]}

    return [node(fig, True) for fig in figures]


def explanation(p: Page, stored: Stored, municipality: str, figure: str) -> dict:
    """What the explanation page shows: one figure (with its inputs), or every figure of a
    municipality table by table."""
    from osuus.engine.trace import EUR
    from osuus.render.explain import Explainer, _shown_rounding

    allocation = stored.allocation
    agreement = allocation.agreement
    e = Explainer(agreement, p.lang)
    places = agreement.shown.places

    def in_table(fig) -> str:
        if fig.unit == EUR and fig.name not in ("row.invoiced", "row.invoiced_host"):
            return e.c.t("explain.in_table", value=e.f.number(fig.value, places))
        return ""

    head = e.c.t("explain.allocation.head", agreement=agreement.id, host=agreement.name_of(agreement.host, p.lang),
                 rounding=e.rule(_shown_rounding(agreement)))
    name = agreement.name_of(municipality, p.lang) if municipality else ""
    if figure:
        result, fig = find_figure(allocation, municipality, figure)
        table = result.table if result is not None else None
        sections = [{"title": _table_title(table, p.lang) if table else "", "items": figure_tree(e, [fig], in_table)}]
        what = f"{e.label(fig)}, {name}" if name and not figure.startswith(COMPONENT_TOTAL) else e.label(fig)
    else:
        sections = [{"title": _table_title(result.table, p.lang), "items": figure_tree(e, figures, in_table)}
                    for result, figures in allocation.explain(municipality)]
        what = name
    all_url = explain_url(p, stored, municipality, "") if figure and municipality else ""
    return {"what": what, "head": head, "sections": sections, "all_url": all_url,
            "municipality": name, "title": agreement.title.get(p.lang)}


def _table_title(table, lang: str) -> str:
    caption = table.caption.get(lang)
    title = table.title.get(lang)
    return f"{caption}: {title}" if caption else title


# --- revisions side by side ----------------------------------------------------------------------

def comparison(p: Page, a, b) -> list[dict]:
    """Per table, each municipality's payment in revision `a` and in `b`, and the difference."""
    f = p.fmt
    places = b.agreement.shown.places
    out = []
    ids = [t.table.id for t in b.tables] + [t.table.id for t in a.tables if t.table.id not in
                                              {x.table.id for x in b.tables}]
    for table_id in ids:
        results = {}
        for side, allocation in (("a", a), ("b", b)):
            try:
                results[side] = allocation.table(table_id)
            except KeyError:
                results[side] = None
        meta = (results["b"] or results["a"]).table
        codes = []
        for side in ("b", "a"):
            if results[side] is not None:
                codes += [r.municipality for r in results[side].rows if r.municipality not in codes]
        rows, sums = [], {"a": Decimal(0), "b": Decimal(0)}
        for code in codes:
            values = {}
            for side in ("a", "b"):
                result = results[side]
                try:
                    values[side] = result.row(code).payment.value if result is not None else None
                except KeyError:
                    values[side] = None
                if values[side] is not None:
                    sums[side] += values[side]
            difference = (values["b"] or Decimal(0)) - (values["a"] or Decimal(0))
            agreement = b.agreement if b.agreement.by_code(code) else a.agreement
            rows.append({"name": agreement.name_of(code, p.lang), "a": _money(f, values["a"], places),
                         "b": _money(f, values["b"], places), "difference": _signed(f, difference, places),
                         "changed": _signed(f, difference, places) != _signed(f, Decimal(0), places)})
        total = sums["b"] - sums["a"]
        out.append({"id": table_id, "title": _table_title(meta, p.lang), "rows": rows,
                    "a": _money(f, sums["a"], places), "b": _money(f, sums["b"], places),
                    "difference": _signed(f, total, places)})
    return out


def _money(f, value: Decimal | None, places: int) -> str:
    return "" if value is None else f.money(value, places)


def _signed(f, value: Decimal, places: int) -> str:
    text = f.money(value, places)
    return text if text.startswith("-") or not value.quantize(Decimal(1).scaleb(-places)) else "+" + text


# --- routes --------------------------------------------------------------------------------------

def _years(versions) -> list[dict]:
    years: dict[int, list] = {}
    for v in versions:
        years.setdefault(v.year, []).append(v)
    return [{"year": y, "revisions": len(vs)} for y, vs in sorted(years.items(), reverse=True)]


def _year_page(p: Page, year: int | None, revision: str | None):
    versions = _all_versions(p.reader)
    if year is None:
        if not versions:
            return None, versions
        year = max(v.year for v in versions)
    return load(p.reader, year, revision), versions


def _render_year(p: Page, stored: Stored | None, versions):
    if stored is None:
        return p.render("agreement/year.html", heading=p.t("web.agreement.title"), stored=None, years=[], sheets=[],
                        versions=[], downloads={}, compare_default={}, partial_ok=True)
    base = p.url(f"agreement/{stored.shown.year}")
    query = f"?revision={stored.shown.revision}" if stored.shown.revision != stored.newest else ""
    downloads = {"xlsx": f"{base}/tables.xlsx{query}", "pdf": f"{base}/appendix.pdf{query}"}
    compare_default = {}
    if len(stored.versions) > 1:
        compare_default = {"a": stored.versions[-2].revision, "b": stored.versions[-1].revision}
    return p.render("agreement/year.html", heading=stored.agreement.title.get(p.lang), stored=stored,
                    years=_years(versions), sheets=Tables(p, stored).sheets(),
                    versions=stored.versions, downloads=downloads, compare_default=compare_default,
                    partial_ok=True)


@router.get("/areas/{area}/agreement")
def agreement_index(request: Request, p: Page = Depends(READ)):
    """The newest year's agreement (and the list of every stored year)."""
    stored, versions = _year_page(p, None, None)
    return _render_year(p, stored, versions)


@router.get("/areas/{area}/agreement/{year}")
def agreement_year(year: int, request: Request, revision: str | None = None, p: Page = Depends(READ)):
    stored, versions = _year_page(p, _year(year), revision)
    return _render_year(p, stored, versions)


@router.get("/areas/{area}/agreement/{year}/explain")
def agreement_explain(year: int, request: Request, municipality: str = "", figure: str = "",
                      revision: str | None = None, p: Page = Depends(READ)):
    """One figure's explanation (or every figure of a municipality): its own page, or, asked by
    htmx from the tables, the explanation alone to open in place."""
    stored = load(p.reader, _year(year), revision)
    agreement = stored.agreement
    if municipality:
        found = agreement.find_municipality(municipality)
        if found is None or not p.sees(found.code):
            raise PageError(404, "web.error.not_found")  # another member's figures: as if not there
        municipality = found.code
    elif not figure.startswith(COMPONENT_TOTAL + "."):
        raise PageError(404, "web.error.not_found")
    shown = explanation(p, stored, municipality, figure)
    back = p.url(f"agreement/{year}") + (f"?revision={stored.shown.revision}"
                                         if stored.shown.revision != stored.newest else "")
    if request.headers.get("hx-request") == "true":
        return p.render("agreement/explanation_part.html", shown=shown, stored=stored, back=back, level=2)
    return p.render("agreement/explain.html", shown=shown, stored=stored, back=back, level=1)


@router.get("/areas/{area}/agreement/{year}/compare")
def agreement_compare(year: int, request: Request, a: str = "", b: str = "", p: Page = Depends(READ)):
    """Two revisions of a year side by side: each municipality's payment in both, and the difference."""
    from osuus.services.agreements import revision_allocation

    stored = load(p.reader, _year(year))
    if len(stored.versions) < 2:
        raise PageError(404, "web.error.not_found")
    first = _revision(a or str(stored.versions[-2].revision), stored.versions)
    second = _revision(b or str(stored.versions[-1].revision), stored.versions)
    left = revision_allocation(p.reader, year, first)
    right = revision_allocation(p.reader, year, second)
    views = {v.revision: v for v in stored.versions}
    return p.render("agreement/compare.html", stored=stored, a=views[first], b=views[second],
                    tables=comparison(p, left, right), same=first == second)


def _attachment(name: str) -> str:
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


def _file_name(p: Page, stored: Stored, suffix: str) -> str:
    base = f"{p.t('file.tables')}-{stored.shown.year}"
    if stored.shown.revision != stored.newest:
        base += f"-{stored.shown.revision}"
    return f"{base}.{suffix}"


@router.get("/areas/{area}/agreement/{year}/tables.xlsx")
def agreement_xlsx(year: int, request: Request, revision: str | None = None, p: Page = Depends(READ)):
    """The tables as a workbook: `osuus allocate FILE -f xlsx`, in the reader's language."""
    from osuus.render.xlsx import workbook_bytes

    stored = load(p.reader, _year(year), revision)
    return Response(workbook_bytes(stored.allocation, p.lang),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": _attachment(_file_name(p, stored, "xlsx")),
                             "Cache-Control": "private, no-store"})


@router.get("/areas/{area}/agreement/{year}/appendix.pdf")
def agreement_pdf(year: int, request: Request, revision: str | None = None, p: Page = Depends(READ)):
    """The appendix tables as PDF (A4 landscape), as `osuus export` writes them."""
    from osuus.api import etags
    from osuus.api.routes.invoices import DOCUMENTS
    from osuus.render.pdf.reports import appendix_pdf

    stored = load(p.reader, _year(year), revision)
    etag = etags.tag(stored.shown.sha256, "appendix.pdf", p.lang)
    content = DOCUMENTS.get_or_make(p.area, etag, lambda: appendix_pdf(stored.allocation, p.lang))
    return Response(content, media_type="application/pdf",
                    headers={"Content-Disposition": _attachment(_file_name(p, stored, "pdf")),
                             "Cache-Control": "private, no-store"})
