"""Geocoding commands: ``geodispatch geocode build-index | run | areas | address | reverse``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from geodispatch.cli.common import console, friendly_errors, progress_bar
from geodispatch.domain.errors import InputError
from geodispatch.services import geo as geo_service

app = typer.Typer(
    help="Offline geocoding, reverse geocoding and ward/area assignment.", no_args_is_help=True
)


@app.command("build-index")
@friendly_errors
def build_index(
    source: Annotated[Path, typer.Argument(help="city export with location + lat/lon columns")],
    out: Annotated[Path, typer.Option(help="folder for the two index files")] = Path(
        "data/geocoding"
    ),
    prefix: Annotated[str, typer.Option(help="file name prefix")] = "boston",
    opened_before: Annotated[
        str | None, typer.Option(help="only cases opened before YYYY-MM-DD")
    ] = None,
) -> None:
    """Build the address and intersection index from a city's own geocoded requests."""
    with progress_bar(f"indexing {source.name}"):
        built = geo_service.build_index(source, out, prefix=prefix, opened_before=opened_before)
    console.print(
        f"{built.rows_read:,} rows read, {built.rows_used:,} with a usable address and point: "
        f"{built.addresses:,} address points, {built.intersections:,} intersections",
        highlight=False,
    )
    for path in built.files:
        console.print(f"  wrote {path}", highlight=False)


@app.command("run")
@friendly_errors
def run(
    redo: Annotated[
        bool, typer.Option("--redo", help="geocode again every request not placed by the source")
    ] = False,
) -> None:
    """Geocode stored requests without coordinates, then assign every request its areas."""
    with progress_bar("geocoding") as progress:
        summary = geo_service.geocode_requests(redo=redo, progress=progress)
    print_locate(summary)


@app.command("areas")
@friendly_errors
def areas() -> None:
    """Assign every stored request to its ward and the other configured areas."""
    with progress_bar("assigning areas"):
        summary = geo_service.assign_all_areas()
    print_locate(summary)


@app.command("address")
@friendly_errors
def address(
    text: Annotated[list[str], typer.Argument(help="one or more addresses, each quoted")],
) -> None:
    """Geocode address text with the offline index and show how each was matched."""
    result = geo_service.geocode_addresses(text)
    table = Table("address", "match", "score", "flag", "lat, lon", "matched / why")
    lats = result["lat"].to_numpy(dtype=float)
    lons = result["lon"].to_numpy(dtype=float)
    scores = result["score"].to_numpy(dtype=float)
    for i, query in enumerate(text):
        row = result.iloc[i]
        match, note = str(row["match"]), str(row["note"])
        lat, lon = lats[i], lons[i]
        point = "" if match == "none" else f"{lat:.5f}, {lon:.5f}"
        why = str(row["matched"]) + (f" ({note})" if note else "")
        score = scores[i]
        table.add_row(Text(query), match, f"{score:.2f}", str(row["flag"]), point, Text(why))
    console.print(table)


@app.command("reverse")
@friendly_errors
def reverse(
    point: Annotated[str, typer.Argument(help="'LAT,LON' in WGS84, e.g. '42.2839,-71.1447'")],
) -> None:
    """The nearest indexed address of a map pin."""
    try:
        lat, lon = (float(v) for v in point.split(","))
    except ValueError:
        raise InputError(
            f"point {point!r} is not 'LAT,LON'; write it like '42.2839,-71.1447'"
        ) from None
    row = geo_service.reverse_points([lon], [lat]).iloc[0]
    if row["match"] == "none":
        console.print(
            f"no address within {geo_service.REVERSE_WITHIN_M:g} m: {row['note']}", markup=False
        )
    elif row["match"] == "exact":  # an address file's text: printed as is, never as markup
        console.print(
            f"{row['address']} ({row['distance_m']:.0f} m)", highlight=False, markup=False
        )
    else:  # a neighbour's address: say so
        console.print(
            f"nearest known address {row['address']}, {row['distance_m']:.0f} m away",
            highlight=False,
            markup=False,
        )


def print_locate(summary: geo_service.LocateSummary) -> None:
    """What a geocode/areas run did, in a few lines."""
    if summary.tried:
        kinds = ", ".join(f"{k} {n:,}" for k, n in sorted(summary.by_match.items()))
        console.print(
            f"geocoded {summary.geocoded:,} of {summary.tried:,} addresses ({kinds}); "
            f"{summary.flagged:,} flagged ambiguous or low confidence for review",
            highlight=False,
        )
    if summary.pins_described:
        console.print(f"described {summary.pins_described:,} map pins by their nearest address")
    for layer, n in summary.assigned.items():
        console.print(
            f"{layer}: {n:,} requests assigned, {summary.unassigned.get(layer, 0):,} without "
            "one (no location, or outside every area)",
            highlight=False,
        )
    for note in summary.notes:
        console.print(Text(f"note: {note}"))
