"""``geodispatch hotspots ...``: detect, list, export, map, ward summary, tag."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.table import Table
from rich.text import Text

from geodispatch.analysis.emerging import EmergingParams
from geodispatch.analysis.hotspots import HotspotParams
from geodispatch.cli.common import console, friendly_errors, progress_bar
from geodispatch.domain.errors import InputError
from geodispatch.reporting.maps import MapParams, TileSource
from geodispatch.services import hotspots as service

app = typer.Typer(
    help="Hotspots: places where reports keep coming back, by type and ward, and what is new.",
    no_args_is_help=True,
)

TypeOption = Annotated[
    list[str] | None, typer.Option("--type", help="service code (repeatable); default all")
]
WardOption = Annotated[list[int] | None, typer.Option("--ward", help="ward number (repeatable)")]


def _rows(frame: pd.DataFrame) -> list[Any]:
    """Rows with attribute access, for printing."""
    return list(frame.itertuples())


def _date(value: str | None, *, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
    except ValueError:
        raise InputError(f"--{name} {value!r} is not a date; use YYYY-MM-DD") from None
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(UTC)
    return stamp.to_pydatetime()


def _selection(
    types: list[str] | None,
    wards: list[int] | None,
    trends: list[str] | None = None,
    *,
    all_types: bool = False,
    one_address: bool = False,
    since: str | None = None,
    until: str | None = None,
) -> service.HotspotFilter:
    return service.HotspotFilter(
        service_codes=tuple(types or ()),
        wards=tuple(wards or ()),
        trends=tuple(trends or ()),
        include_all_types=all_types,
        include_one_address=one_address,
        since=_date(since, name="since"),
        until=_date(until, name="until"),
    )


@app.command("detect")
@friendly_errors
def detect(
    since: Annotated[str | None, typer.Option(help="analyse requests from this date")] = None,
    until: Annotated[
        str | None, typer.Option(help="analyse up to this date (the trend window ends here)")
    ] = None,
    window_days: Annotated[float, typer.Option(help="recent window for trends, days")] = 90.0,
    cell_m: Annotated[float, typer.Option(help="grid cell, metres")] = 25.0,
    baseline_m: Annotated[float, typer.Option(help="baseline kernel σ, metres")] = 1000.0,
    min_ratio: Annotated[
        float, typer.Option(help="effect floor: odds ratio against the other types")
    ] = 2.0,
    min_reports: Annotated[int, typer.Option(help="effect floor: reports")] = 5,
    fdr: Annotated[float, typer.Option(help="false discovery rate")] = 0.05,
) -> None:
    """Find problem hotspots per type (and busy places), label trends, store, tag requests."""
    params = HotspotParams(
        all_types=True,
        cell_m=cell_m,
        baseline_sigma_m=baseline_m,
        windows_m=(3 * cell_m, 9 * cell_m),
        baseline_cell_m=8 * cell_m,
        min_ratio=min_ratio,
        min_reports=min_reports,
        fdr_q=fdr,
    )
    with progress_bar("finding hotspots") as progress:
        summary = service.refresh_hotspots(
            since=_date(since, name="since"),
            until=_date(until, name="until"),
            params=params,
            emerging=EmergingParams(window_days=window_days),
            progress=progress,
        )
    trends = ", ".join(f"{n:,} {t or 'unlabelled'}" for t, n in sorted(summary.by_trend.items()))
    console.print(
        f"[green]✓[/] {summary.hotspots:,} hotspots ({trends}) from {summary.analysed:,} "
        f"located requests in {summary.seconds:.1f} s; {summary.continued:,} continue earlier "
        f"ones, {summary.new:,} new ids, {summary.retired:,} retired; "
        f"{summary.tagged:,} requests tagged",
        highlight=False,
    )
    if summary.as_of is not None and summary.window_start is not None:
        console.print(
            f"  trend window {summary.window_start:%Y-%m-%d} – {summary.as_of:%Y-%m-%d}",
            highlight=False,
        )
    if summary.placeholder_points:
        console.print(
            f"  left out {summary.placeholder_points} placeholder point(s): one exact point "
            "holding reports of many unrelated types",
            highlight=False,
        )
    if not summary.wards_used:
        console.print("  no ward layer found: hotspots have no ward", highlight=False)


@app.command("top")
@friendly_errors
def top(
    n: Annotated[int, typer.Option("-n", help="hotspots per type")] = 10,
    types: TypeOption = None,
    wards: WardOption = None,
    trend: Annotated[
        list[str] | None, typer.Option(help="new, intensifying, persistent, diminishing")
    ] = None,
    all_types: Annotated[
        bool, typer.Option("--all-types/--typed-only", help="include all-types hotspots")
    ] = False,
    one_address: Annotated[
        bool,
        typer.Option(
            "--one-address/--areas-only",
            help="include hotspots where one address holds half the incidents",
        ),
    ] = False,
) -> None:
    """The strongest hotspots per type, with ward, counts and trend."""
    selection = _selection(types, wards, trend, all_types=all_types, one_address=one_address)
    frame = service.top_hotspots(n, selection)
    if frame.empty:
        console.print("no hotspots match; run 'geodispatch hotspots detect' first")
        return
    table = Table(
        "id", "type", "ward(s)", "reports", "expected", "×", "addresses", "most reported",
        "months", "open", "trend", "q",
    )  # fmt: skip
    for row in _rows(frame):
        table.add_row(
            str(row.id),
            Text(str(row.service_name)),
            Text(str(row.wards).replace(";", ", ")),
            f"{row.n_reports:,}",
            f"{row.expected:.1f}",
            f"{row.ratio:.1f}",
            str(row.distinct_addresses),
            Text(f"{row.top_address} ({row.top_address_reports})" if row.top_address else ""),
            f"{row.months_with_reports}/{row.months_active}",
            "" if pd.isna(row.open_share) else f"{row.open_share:.0%}",
            str(row.trend),
            f"{row.q_value:.1e}",
        )
    console.print(table)


@app.command("emerging")
@friendly_errors
def emerging(types: TypeOption = None, wards: WardOption = None) -> None:
    """New and intensifying hotspots: what changed in the recent window."""
    frame = service.emerging_hotspots(_selection(types, wards, all_types=False))
    if frame.empty:
        console.print("nothing new or intensifying")
        return
    table = Table("id", "type", "ward(s)", "trend", "recent", "reports", "×", "q (trend)")
    for row in _rows(frame):
        table.add_row(
            str(row.id),
            Text(str(row.service_name)),
            Text(str(row.wards).replace(";", ", ")),
            str(row.trend),
            f"{row.n_recent:,}",
            f"{row.n_reports:,}",
            f"{row.ratio:.1f}",
            "" if pd.isna(row.trend_q) else f"{row.trend_q:.1e}",
        )
    console.print(table)


@app.command("export")
@friendly_errors
def export(
    geojson: Annotated[Path | None, typer.Option(help="write a GeoJSON file here")] = None,
    csv: Annotated[Path | None, typer.Option(help="write a CSV file here")] = None,
    types: TypeOption = None,
    wards: WardOption = None,
) -> None:
    """Export active hotspots as GeoJSON (polygons) and/or CSV (one line each)."""
    result = service.export_hotspots(geojson=geojson, csv=csv, selection=_selection(types, wards))
    for path in result.files:
        console.print(f"[green]✓[/] {result.hotspots:,} hotspots → {path}", highlight=False)


@app.command("map")
@friendly_errors
def map_command(
    output: Annotated[Path, typer.Argument(help="HTML file to write")],
    types: TypeOption = None,
    wards: WardOption = None,
    since: Annotated[str | None, typer.Option(help="requests from this date")] = None,
    until: Annotated[str | None, typer.Option(help="requests up to this date")] = None,
    tiles: Annotated[
        str | None, typer.Option(help="tile URL template with {z}/{x}/{y}; default none")
    ] = None,
    attribution: Annotated[str, typer.Option(help="attribution of the tiles")] = "",
    every: Annotated[
        bool,
        typer.Option("--all-hotspots", help="draw every hotspot, not only each type's strongest"),
    ] = False,
) -> None:
    """Write the manager map (wards, hotspots, heat) as one HTML file that works offline."""
    source = TileSource(tiles, attribution) if tiles else None
    with progress_bar("building the map") as progress:
        progress(0, 1)
        page = service.hotspot_map_html(
            _selection(types, wards, since=since, until=until),
            tiles=source,
            params=MapParams(max_hotspots=None) if every else None,
        )
        progress(1, 1)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(page, encoding="utf-8")
    console.print(f"[green]✓[/] map ({len(page) / 1e6:.1f} MB) → {output}", highlight=False)


@app.command("wards")
@friendly_errors
def wards_command(
    window_days: Annotated[float, typer.Option(help="recent window, days")] = 90.0,
) -> None:
    """Requests per ward with their change over the recent window, and ward hotspots."""
    summary = service.ward_summary(window_days=window_days)
    table = Table(
        "ward", "requests", "open", "recent", "before", "change", "hotspots", "emerging", "top",
        title=f"last {window_days:g} days vs the {window_days:g} before"
        + (f", to {summary.as_of:%Y-%m-%d}" if summary.as_of is not None else ""),
    )  # fmt: skip
    for row in _rows(summary.by_ward):
        change = "" if pd.isna(row.change) else f"{row.change:+.0%}" + (" *" if row.changed else "")
        table.add_row(
            Text(str(row.ward)),
            f"{row.requests:,}",
            f"{row.open:,}",
            f"{row.recent:,}",
            f"{row.previous:,}",
            change,
            str(row.hotspots),
            str(row.emerging),
            Text(str(row.top_hotspots)),
        )
    console.print(table)
    console.print("* change significant (binomial test, FDR 5 %)", highlight=False)


@app.command("tag")
@friendly_errors
def tag() -> None:
    """Tag every located request afresh with the active hotspot it falls in.

    Imports already tag their own requests and a refresh tags them all; this re-tags the
    whole database, e.g. after hotspots were edited or requests moved outside an import.
    """
    with progress_bar("tagging requests") as progress:
        progress(0, 1)
        tagged = service.tag_requests()
        progress(1, 1)
    console.print(f"[green]✓[/] {tagged:,} requests are in a hotspot", highlight=False)
