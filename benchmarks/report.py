"""Turning rows of measurements into verdicts and tables, as text and as Markdown."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass

from benchmarks.common import Metrics
from benchmarks.targets import SECTIONS, TARGETS, Section, Target

COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "<": operator.lt,
    ">": operator.gt,
}


@dataclass
class Row:
    """One line of a table: a pool's (or a mode's) metrics, or why it has none."""

    section: str
    pool: str
    metrics: Metrics | None
    note: str = ""


@dataclass(frozen=True)
class Verdict:
    """One target applied to one row; ``passed`` is None when something was not measured."""

    target: Target
    row: str
    measured: float | None
    bound: float | None
    passed: bool | None

    @property
    def status(self) -> str:
        return {True: "PASS", False: "MISS", None: "n/a"}[self.passed]

    def as_dict(self) -> dict[str, object]:
        """The verdict for a JSON report."""
        return {
            "section": self.target.section,
            "row": self.row,
            "target": self.target.describe(),
            "measured": self.measured,
            "bound": self.bound,
            "status": self.status,
        }


def judge(rows: list[Row]) -> list[Verdict]:
    """Every target against every row it applies to, for the workloads that ran."""
    verdicts = []
    for target in TARGETS:
        section = [row for row in rows if row.section == target.section]
        if not section:
            continue  # not run this time (--only)
        judged = [row for row in section if _matches(row.pool, target.rows)]
        reference = next((row for row in section if row.pool == target.reference), None)
        for row in judged or [Row(target.section, target.rows, None)]:
            verdicts.append(_verdict(target, row, reference))
    return verdicts


def _matches(label: str, rows: str) -> bool:
    return label == rows or label.startswith(rows + " (")


def _verdict(target: Target, row: Row, reference: Row | None) -> Verdict:
    measured = None if row.metrics is None else row.metrics.get(target.metric)
    bound: float | None = target.bound
    if target.reference is not None:
        theirs = reference.metrics if reference is not None else None
        yardstick = None if theirs is None else theirs.get(target.reference_metric or target.metric)
        bound = None if yardstick is None else target.bound * yardstick
    if measured is None or bound is None:
        return Verdict(target, row.pool, measured, bound, None)
    return Verdict(target, row.pool, measured, bound, COMPARE[target.compare](measured, bound))


def row_status(verdicts: list[Verdict], section: str, pool: str) -> str:
    """PASS when every target on this row passed, MISS when one missed, else blank."""
    mine = [v for v in verdicts if v.target.section == section and v.row == pool]
    if any(v.passed is False for v in mine):
        return "MISS"
    return "PASS" if mine and all(v.passed for v in mine) else ""


def format_number(value: float) -> str:
    """Three significant-ish digits, with thousands separators for big numbers."""
    if value >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def _ratio(row: Row, baseline: Metrics | None, first: str) -> str:
    if row.metrics is None or baseline is None or not baseline.get(first):
        return "-"
    return f"{row.metrics[first] / baseline[first]:.2f}x"


def _table(section: Section, rows: list[Row], verdicts: list[Verdict]) -> list[list[str]]:
    """The cells of one table, header first; a row without figures has its note instead."""
    columns = next((list(row.metrics) for row in rows if row.metrics), [])
    baseline = next((r.metrics for r in rows if r.pool == section.baseline and r.metrics), None)
    ratio = []
    if section.baseline:
        against = section.baseline.split(" (")[0].replace("ProcessPoolExecutor", "PPE")
        compared = section.ratio_metric or (columns[0] if columns else "")
        ratio = [f"{compared} vs {against}".lstrip()]
    cells = [["pool", *columns, *ratio, "target"]]
    for row in rows:
        status = row_status(verdicts, section.key, row.pool)
        if row.metrics is None:
            cells.append([row.pool, row.note, *[""] * (len(columns) + len(ratio) - 1), status])
            continue
        numbers = [format_number(row.metrics.get(c, float("nan"))) for c in columns]
        if ratio:
            numbers.append(_ratio(row, baseline, section.ratio_metric or columns[0]))
        cells.append([row.pool, *numbers, status])
    return cells


def text_report(fields: dict[str, object], rows: list[Row], verdicts: list[Verdict]) -> str:
    """Every table with its PASS/MISS column, then the list of targets with their figures.

    ``fields`` (the run's Config as a dict) fills in the tables' titles and notes.
    """
    out = []
    for section in SECTIONS:
        mine = [row for row in rows if row.section == section.key]
        if not mine:
            continue
        header, *lines = _table(section, mine, verdicts)
        figures = [line for row, line in zip(mine, lines, strict=True) if row.metrics]
        widths = [
            max(len(cell) for cell in column) for column in zip(header, *figures, strict=True)
        ]
        widths[0] = max(len(row.pool) for row in mine)
        out += ["", f"== {section.title.format(**fields)}"]
        if section.note:
            out.append(f"   {section.note.format(**fields)}")
        out.append(_text_line(header, widths))
        for row, line in zip(mine, lines, strict=True):
            out.append(
                _text_line(line, widths) if row.metrics else f"{row.pool:{widths[0]}}  {row.note}"
            )
    out += ["", "== targets (pygame_async; a miss does not fail the run)"]
    out += [describe_verdict(v) for v in verdicts]
    return "\n".join(out)


def _text_line(cells: list[str], widths: list[int]) -> str:
    first, *rest = cells
    return f"{first:{widths[0]}}" + "".join(
        f"{c:>{w + 3}}" for c, w in zip(rest, widths[1:], strict=True)
    )


def describe_verdict(verdict: Verdict) -> str:
    """``[MISS] tiny / pygame_async: calls/s >= 4 x ProcessPoolExecutor: 4,744 vs 24,104``."""
    measured = "-" if verdict.measured is None else format_number(verdict.measured)
    bound = "-" if verdict.bound is None else format_number(verdict.bound)
    return (
        f"[{verdict.status}] {verdict.target.section} / {verdict.row}: "
        f"{verdict.target.describe()}: measured {measured}, bound {bound}"
    )


def markdown_report(fields: dict[str, object], rows: list[Row], verdicts: list[Verdict]) -> str:
    """The targets as one table, then every workload's table, for the README."""
    out = ["| workload | row | target | measured | bound | |", "|---|---|---|---:|---:|---|"]
    for v in verdicts:
        measured = "-" if v.measured is None else format_number(v.measured)
        bound = "-" if v.bound is None else format_number(v.bound)
        out.append(
            f"| {v.target.section} | {v.row} | {v.target.describe()} "
            f"| {measured} | {bound} | {v.status} |"
        )
    for section in SECTIONS:
        mine = [row for row in rows if row.section == section.key]
        if not mine:
            continue
        header, *lines = _table(section, mine, verdicts)
        note = f" ({section.note.format(**fields)})" if section.note else ""
        out += ["", f"**{section.title.format(**fields)}**{note}", ""]
        rule = "|---" + "|---:" * (len(header) - 2) + "|---|"  # figures right, verdict left
        out += ["| " + " | ".join(header) + " |", rule]
        out += ["| " + " | ".join(line) + " |" for line in lines]
    return "\n".join(out) + "\n"
