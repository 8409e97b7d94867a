"""The public pages of a statistics release: static files that work from file:// and online.

`write_site(release_dir, out_dir)` reads a release folder (DESIGN17 §5) and writes:

    out_dir/index.html        the nation's monthly time series (count, or percent of a measure
                              chosen as the base), the nation's totals, links
    out_dir/drilldown.html    state -> county (jurisdiction, with its activation date) -> month,
                              three linked lists filtering left to right (as TRAC's tools do),
                              the measures of the selection, its time series and a month table
    out_dir/whatif.html       two policies side by side with their intervals (from whatif.json)
    out_dir/downloads.html    every file of the release with its sha256, and the codebook
    out_dir/assets/           plotly.min.js (from the installed plotly package), site.js, site.css
    out_dir/data/release.js   the data, as `window.SCOMM = {...}` (no fetch(), no modules: the
                              pages work when opened from files)
    out_dir/files/...         copies of the release's published files (what the manifest lists)

What the pages read from the release:
- `statistics/cells.json`: a list of `{"measure", "geo", "period", "value", "status"}`; geo is
  "US", a state or an ORI; period a month "YYYY-MM", "FY2010" or "cumulative"; status "shown",
  "suppressed", "rounded" or "noisy". A suppressed cell must have `"value": null` (a release
  where one does not is refused), as is a rounded one without a value ("<15"): both are
  shown as "(S)" (withheld: a count of 1 to 10, under 15 where the release is rounded, or a
  larger count hidden so that none of those can be worked out), never as a number; no
  percent is shown where either count is withheld. Percentages are computed by the page
  from two published counts, never published.
- `statistics/jurisdictions.csv`: ori, name, state, activated (a date, or empty; the column
  may also be called activation).
- `statistics/release.json`: release (its name; or "name"), disclosure (the rule, in words),
  created, chain_head ({"seq", "entry_hash"}), window ({"first",
  "last"}); optional `"measures": [{"name", "title", "table"}]` (or "group" for "table")
  gives the measures' titles and tables; otherwise the table of a measure
  is the table whose CSV (`statistics/ice_monthly.csv`, `statistics/never_published.csv`) has
  it as a column, and its title is its name in words.
- `manifest.json` (optional): its `files` (a list of `{"path", "sha256", ...}` or a mapping of
  path to such an object or to the sha256) are the downloads; `codebook.md`/`codebook.json`.
- `whatif.json` (optional, in the release folder or given): the policy comparison, as
  `scomm whatif --json` writes it:

      {"scenario": str, "scale": float (optional), "policies": [A, B], "seeds": [int, ...],
       "rows": [{"measure": str, "title": str,
                 "a": {"mean", "low", "high"}, "b": {...}, "difference": {...}}]}

  where low/high bound the 95% interval over seeds (null where there is none: one seed) and
  difference is B - A.

Nothing here computes a statistic: the pages show the release's cells as they are.
"""

from __future__ import annotations

import csv
import importlib
import json
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from scomm.reports.disclosure import SUPPRESSED
from scomm.reports.errors import ReleaseInputError
from scomm.reports.manifest import file_digest

# A withheld cell: a count of 1 to 10 (under 15 in a rounded release), or a larger count that
# complementary suppression hid so that none of those can be worked out. One marker for all:
# "1-10" or "<15" would say something false of the larger ones.
STATUS_CODES = {"shown": "s", "suppressed": "x", "rounded": "r", "noisy": "n"}
ABSENT = "-"
GROUPS = {
    "ice_monthly": "ICE's monthly statistics",
    "never_published": "What ICE never published",
}
PAGES = ("index.html", "drilldown.html", "whatif.html", "downloads.html")
PLOTLY = "assets/plotly.min.js"


@dataclass(frozen=True)
class Site:
    """What `write_site` wrote: its folder and its pages."""

    out_dir: Path
    pages: tuple[str, ...]
    files: tuple[str, ...]  # the release files copied under files/


def write_site(release_dir: Path, out_dir: Path, whatif: Path | None = None) -> Site:
    """Write the public pages of the release in `release_dir` into `out_dir`."""
    release_dir = Path(release_dir)
    out_dir = Path(out_dir)
    cells = _read_json(release_dir / "statistics" / "cells.json")
    if not isinstance(cells, list):
        raise ReleaseInputError(f"{release_dir / 'statistics' / 'cells.json'}: not a list of cells")
    release = _optional_json(release_dir / "statistics" / "release.json") or {}
    manifest = _optional_json(release_dir / "manifest.json")
    comparison = _read_json(whatif) if whatif else _optional_json(release_dir / "whatif.json")
    jurisdictions = _jurisdictions(release_dir / "statistics" / "jurisdictions.csv")
    data = site_data(cells, jurisdictions, release, _csv_groups(release_dir / "statistics"))
    (out_dir / "assets").mkdir(parents=True, exist_ok=True)
    (out_dir / "data").mkdir(exist_ok=True)
    copied = _copy_release(release_dir, out_dir, manifest)
    downloads = _downloads(release_dir, manifest, copied)
    data["whatif"] = _whatif(comparison) if comparison is not None else None
    _write_assets(out_dir)
    (out_dir / "data" / "release.js").write_text(
        "window.SCOMM = " + json.dumps(data, ensure_ascii=True, separators=(",", ":")) + ";\n"
    )
    env = Environment(
        loader=PackageLoader("scomm.reports", "templates"), autoescape=select_autoescape(["html"])
    )
    context = {
        "release": data["release"],
        "marker": data["marker"],
        "groups": GROUPS,
        "downloads": downloads,
        "codebook": _codebook_text(release_dir),
        "whatif": data["whatif"],
    }
    for page in PAGES:
        html = env.get_template(f"site_{page}").render(page=page, **context)
        (out_dir / page).write_text(html)
    return Site(out_dir, PAGES, tuple(copied))


def site_data(
    cells: list[dict[str, Any]],
    jurisdictions: list[dict[str, str]],
    release: dict[str, Any],
    csv_groups: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The data the pages read: measures, places and periods in order, and per measure and
    place one value per period (null where suppressed or absent) with a status string (one
    letter per period: s shown, x suppressed, r rounded, n noisy, - absent)."""
    measures: list[str] = []
    geos: set[str] = set()
    periods: set[str] = set()
    seen: dict[tuple[str, str, str], tuple[int | None, str]] = {}
    for index, cell in enumerate(cells):
        key, value, status = _cell(cell, index)
        if key[0] not in measures:
            measures.append(key[0])
        geos.add(key[1])
        periods.add(key[2])
        seen[key] = (value, status)
    months = sorted(p for p in periods if len(p) == 7 and p[4] == "-")
    years = sorted(p for p in periods if p.startswith("FY"))
    ordered_periods = [*months, *years, *(["cumulative"] if "cumulative" in periods else [])]
    places = _places(jurisdictions, geos)
    values: dict[str, dict[str, list[int | None]]] = {}
    statuses: dict[str, dict[str, str]] = {}
    for measure in measures:
        values[measure], statuses[measure] = {}, {}
        for geo in places["order"]:
            row: list[int | None] = []
            letters = []
            for period in ordered_periods:
                value, status = seen.get((measure, geo, period), (None, ""))
                row.append(value)
                letters.append(STATUS_CODES.get(status, ABSENT))
            values[measure][geo] = row
            statuses[measure][geo] = "".join(letters)
    described = {m["name"]: m for m in release.get("measures", []) if isinstance(m, dict)}
    groups = csv_groups or {}
    return {
        "release": {
            "name": str(release.get("release") or release.get("name") or ""),
            "chain_head": _chain_head_text(release.get("chain_head")),
            "window": _window_text(release.get("window")),
            "created": release.get("created"),
            "disclosure": str(release.get("disclosure") or ""),
        },
        "marker": SUPPRESSED,
        "measures": [
            {
                "name": m,
                "title": str(described.get(m, {}).get("title") or _words(m)),
                "group": str(
                    described.get(m, {}).get("table")
                    or described.get(m, {}).get("group")
                    or groups.get(m, "other")
                ),
            }
            for m in measures
        ],
        "months": months,
        "periods": ordered_periods,
        "states": places["states"],
        "jurisdictions": places["jurisdictions"],
        "values": values,
        "status": statuses,
    }


def _window_text(window: Any) -> str:
    if isinstance(window, dict):
        return " to ".join(str(window[k]) for k in ("first", "last", "start", "end") if k in window)
    if isinstance(window, list | tuple):
        return " to ".join(str(w) for w in window)
    return "" if window is None else str(window)


def _chain_head_text(head: Any) -> str:
    """The chain head a release was built from, in words: "entry 42, hash 3f..."."""
    if isinstance(head, dict):
        seq = head.get("seq", "")
        digest = head.get("hash") or head.get("entry_hash") or ""
        return f"entry {seq}, hash {digest}" if digest else f"entry {seq}"
    if isinstance(head, list | tuple) and len(head) == 2:
        return f"entry {head[0]}, hash {head[1]}"
    return "" if head is None else str(head)


def _cell(cell: Any, index: int) -> tuple[tuple[str, str, str], int | None, str]:
    if not isinstance(cell, dict) or not all(
        isinstance(cell.get(f), str) for f in ("measure", "geo", "period", "status")
    ):
        raise ReleaseInputError(f"cells.json: cell {index} lacks measure, geo, period or status")
    value = cell.get("value")
    status = cell["status"]
    if status == "rounded" and value is None:
        # a count of 11 to 14 under DRB rounding publishes no number ("<15"): the pages
        # show it as they show a suppressed cell, under the rounded release's marker
        status = "suppressed"
    if status == "suppressed":
        if value is not None:  # never let a suppressed value into the pages or their data
            raise ReleaseInputError(
                f"cells.json: cell {index} is suppressed but carries a value; refusing to publish"
            )
    elif not (isinstance(value, int) and not isinstance(value, bool)):
        raise ReleaseInputError(f"cells.json: cell {index} ({status}) has no whole-number value")
    return (cell["measure"], cell["geo"], cell["period"]), value, status


def _places(jurisdictions: list[dict[str, str]], geos: set[str]) -> dict[str, Any]:
    known = {j["ori"]: j for j in jurisdictions}
    oris = sorted(set(known) | {g for g in geos if len(g) > 2 and g != "US"})
    states = sorted(
        {known[o]["state"] if o in known else o[:2] for o in oris}
        | {g for g in geos if len(g) == 2 and g != "US"}
    )
    listed = [
        {
            "ori": ori,
            "name": known.get(ori, {}).get("name") or ori,
            "state": known.get(ori, {}).get("state") or ori[:2],
            "activation": known.get(ori, {}).get("activation") or "",
        }
        for ori in oris
    ]
    return {"order": ["US", *states, *oris], "states": states, "jurisdictions": listed}


def _words(name: str) -> str:
    text = name.replace("_", " ")
    return text[:1].upper() + text[1:]


def _read_json(path: Path) -> Any:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ReleaseInputError(f"{path}: not found (is this a release folder?)") from None
    except (OSError, ValueError) as error:
        raise ReleaseInputError(f"{path}: cannot read it as JSON ({error})") from None


def _optional_json(path: Path) -> Any:
    return _read_json(path) if path.is_file() else None


def _jurisdictions(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    out = []
    for row in rows:
        ori = (row.get("ori") or "").strip()
        if ori:
            out.append(
                {
                    "ori": ori,
                    "name": (row.get("name") or "").strip(),
                    "state": (row.get("state") or ori[:2]).strip(),
                    "activation": (row.get("activated") or row.get("activation") or "").strip(),
                }
            )
    return out


def _csv_groups(statistics: Path) -> dict[str, str]:
    """measure -> the table whose CSV has it as a column."""
    groups: dict[str, str] = {}
    for group in GROUPS:
        path = statistics / f"{group}.csv"
        if path.is_file():
            with path.open(newline="") as handle:
                header = next(csv.reader(handle), [])
            for column in header:
                groups.setdefault(column, group)
    return groups


def _manifest_files(manifest: Any) -> list[tuple[str, str]]:
    """(path, sha256) of every file the manifest lists, in either of its accepted shapes."""
    files = manifest.get("files") if isinstance(manifest, dict) else None
    out: list[tuple[str, str]] = []
    if isinstance(files, dict):
        for path, about in files.items():
            sha = about.get("sha256", "") if isinstance(about, dict) else str(about)
            out.append((str(path), str(sha)))
    elif isinstance(files, list):
        for about in files:
            if isinstance(about, dict) and "path" in about:
                out.append((str(about["path"]), str(about.get("sha256", ""))))
    return out


def _safe_relative(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return bool(parts) and not PurePosixPath(path).is_absolute() and ".." not in parts


# What a release folder publishes (DESIGN17 §5); nothing else in the folder is copied into
# the pages, whatever the manifest lists: it hashes every file of the folder, and a release
# written into a run's folder would list its database (scomm.db), report and keys too.
PUBLISHED_FOLDERS = ("statistics", "cases")
PUBLISHED_FILES = ("manifest.json", "codebook.json", "codebook.md", "whatif.json")


def _published_part(name: str) -> bool:
    parts = PurePosixPath(name).parts
    if len(parts) == 1:
        return parts[0] in PUBLISHED_FILES
    return len(parts) == 2 and parts[0] in PUBLISHED_FOLDERS


def _copy_release(release_dir: Path, out_dir: Path, manifest: Any) -> list[str]:
    """Copy what the release publishes under out_dir/files/: the files its manifest lists
    (and the manifest), or without one the statistics, case tables and codebook; only the
    release's own parts (`PUBLISHED_FOLDERS`, `PUBLISHED_FILES`). Keys and the site itself
    are never copied."""
    if manifest is not None:
        names = [p for p, _ in _manifest_files(manifest)] + ["manifest.json"]
    else:
        names = [
            str(p.relative_to(release_dir).as_posix())
            for folder in ("statistics", "cases")
            for p in sorted((release_dir / folder).glob("*"))
            if p.is_file()
        ] + [n for n in ("codebook.json", "codebook.md") if (release_dir / n).is_file()]
    target = out_dir.resolve()
    copied = []
    for name in names:
        source = release_dir / name
        if not _safe_relative(name) or name.endswith(".key") or not source.is_file():
            continue
        if not _published_part(name):
            continue  # not a part of a release: a database, a report, anything else
        if target == source.resolve().parent or target in source.resolve().parents:
            continue  # the site's own files, when it is written inside the release
        destination = out_dir / "files" / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
        copied.append(name)
    return copied


def _downloads(release_dir: Path, manifest: Any, copied: list[str]) -> list[dict[str, Any]]:
    listed = dict(_manifest_files(manifest)) if manifest is not None else {}
    rows = []
    for name in copied:
        path = release_dir / name
        sha = listed.get(name) or file_digest(path)
        rows.append({"path": name, "href": f"files/{name}", "sha256": sha,
                     "bytes": path.stat().st_size, "listed": name in listed})  # fmt: skip
    return rows


def _codebook_text(release_dir: Path) -> str:
    path = release_dir / "codebook.md"
    return path.read_text() if path.is_file() else ""


def _whatif(comparison: Any) -> dict[str, Any]:
    """The comparison as the page shows it; a malformed one is refused, not half shown."""
    if not isinstance(comparison, dict) or not isinstance(comparison.get("rows"), list):
        raise ReleaseInputError(
            "whatif.json: expected an object with rows (see scomm.reports.site)"
        )
    policies = comparison.get("policies") or ["A", "B"]
    if not (isinstance(policies, list) and len(policies) == 2):
        raise ReleaseInputError("whatif.json: policies must name two policies")
    rows = []
    for index, row in enumerate(comparison["rows"]):
        try:
            rows.append(
                {
                    "measure": str(row["measure"]),
                    "title": str(row.get("title") or _words(str(row["measure"]))),
                    **{
                        arm: {
                            "mean": float(row[arm]["mean"]),
                            **{k: _maybe_float(row[arm][k]) for k in ("low", "high")},
                        }
                        for arm in ("a", "b", "difference")
                    },
                }
            )
        except (KeyError, TypeError, ValueError):
            raise ReleaseInputError(f"whatif.json: row {index} lacks a mean, low or high") from None
    return {
        "scenario": str(comparison.get("scenario", "")),
        "scale": comparison.get("scale"),
        "policies": [str(p) for p in policies],
        "seeds": list(comparison.get("seeds") or []),
        "rows": rows,
    }


def _maybe_float(value: Any) -> float | None:
    """An interval's bound: None where there is none (a single seed)."""
    return None if value is None else float(value)


def _write_assets(out_dir: Path) -> None:
    # plotly ships no type hints; imported by name so that no ignore comment depends on
    # whether mypy is told to skip it
    plotly_offline = importlib.import_module("plotly.offline")
    plotly_js = out_dir / PLOTLY
    script: str = plotly_offline.get_plotlyjs()
    if not plotly_js.is_file() or plotly_js.stat().st_size != len(script.encode()):
        plotly_js.write_text(script)
    templates = resources.files("scomm.reports") / "templates"
    for name in ("site.js", "site.css"):
        (out_dir / "assets" / name).write_text(templates.joinpath(name).read_text())
