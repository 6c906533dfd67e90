"""What the audit commands print, in the reader's language: each finding of `osuus audit
verify` naming what and where (the row, the audit record that wrote it), the summary,
and the checkpoint (text and JSON)."""

from __future__ import annotations

from osuus.render.i18n import catalogue
from osuus.render.terminal import plain


def _period(names: dict) -> str:
    year, kind, index = names.get("period_year"), names.get("period_kind"), names.get("period_index")
    if kind == "year":
        return f"{year:04d}"
    if kind == "quarter":
        return f"{year:04d}-Q{index}"
    return f"{year:04d}-{index:02d}"


class AuditText:
    def __init__(self, lang: str = "fi"):
        self.lang = lang
        self.c = catalogue(lang)

    def t(self, key: str, /, **params) -> str:
        return plain(self.c.t(f"cli.audit.{key}", **params))

    def n(self, key: str, count: int, /, **params) -> str:
        return plain(self.c.n(f"cli.audit.{key}", count, **params))

    # naming ----------------------------------------------------------------------

    def table(self, name: str | None) -> str:
        return self.t(f"table.{name}") if name else ""

    def what(self, f) -> str:
        """The row a finding is about: by what names it (when it is there), else by its key."""
        if not f.table:
            return ""
        if f.table == "year_closings":
            return self.t("what.year_closings", year=f.key)
        if f.names:
            names = dict(f.names)
            if f.table == "invoice_runs":
                names["period"] = _period(names)
            return self.t(f"what.{f.table}", id=f.key, **names)
        return self.t("gone", table=self.table(f.table), id=f.key)

    def record(self, record_id: int | None, params: dict) -> str:
        if record_id is None:
            return ""
        if "record_action" in params:
            return self.t("record", id=record_id, action=params["record_action"], subject=params["record_subject"])
        return self.t("record_gone", id=record_id)

    def finding(self, f) -> str:
        p = f.params
        fields = dict(record=self.record(f.record, p), what=self.what(f), table=self.table(f.table))
        if f.kind == "rows.more":
            return self.n("finding.rows.more", p["count"], table=self.table(f.table))
        if f.kind == "log.empty":
            return self.n("finding.log.empty", p["rows"])
        if f.kind == "rows.edited":
            fields.update(first=f.key, last=f.last)
        elif f.kind == "record.unlinked":
            fields.update(previous=p["previous"])
        elif f.kind == "row.covered_twice":
            fields.update(previous=self.t("record_gone", id=p["previous"]))
        elif f.kind == "numbers.gap":
            shown = ", ".join(p["numbers"])
            fields.update(numbers=shown + (" …" if p["count"] > len(p["numbers"]) else ""))
        elif f.kind == "numbers.counter":
            fields.update(year=p["year"], counter=p["counter"], last=p["last"])
        elif f.kind == "guard.missing":
            fields.update(name=p["name"])
        elif f.kind.startswith("checkpoint."):
            fields.update(sequence=p["sequence"], last=p.get("last", 0))
        return self.t(f"finding.{f.kind}", **fields)

    # the result ------------------------------------------------------------------

    def verified(self, v) -> str:
        """What verify prints when nothing is wrong."""
        lines = [plain(self.c.n("cli.audit.intact", v.records)), self.n("covered", v.rows)]
        if v.not_covered:
            lines.append(self.n("not_covered", v.not_covered, first=v.first_covered) if v.first_covered
                         else self.n("not_covered_only", v.not_covered))
        if v.checkpoint is not None:
            lines.append(self.t("checkpoint_ok", sequence=v.checkpoint.sequence))
        return "\n".join(lines) + "\n"

    def failed(self, v) -> str:
        return self.n("failed", len(v.findings))

    # the checkpoint ------------------------------------------------------------------

    def checkpoint(self, cp) -> str:
        """The checkpoint to keep: a sentence, then `label: value` lines (read back by any language)."""
        lines = [self.t("checkpoint.title"),
                 f"{self.t('checkpoint.sequence')}: {cp.sequence}",
                 f"{self.t('checkpoint.hash')}: {cp.hash}"]
        if cp.at is not None:
            lines.append(f"{self.t('checkpoint.at')}: {cp.at.isoformat(timespec='microseconds')}")
        return "\n".join(lines) + "\n"

    def checkpoint_line(self, cp) -> str:
        """One line for a command's summary (the invoice run's)."""
        return self.t("checkpoint.line", sequence=cp.sequence, hash=cp.hash)


def checkpoint_json(cp) -> dict:
    """The checkpoint for programs: {"sequence", "hash", "at", "records"}."""
    return {"sequence": cp.sequence, "hash": cp.hash,
            "at": cp.at.isoformat(timespec="microseconds") if cp.at is not None else None, "records": cp.records}
