"""The codebook of a release: each table's fields, their types, meanings, values and
missingness, as JSON for programs and as Markdown for people."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from scomm.reports.kanon import Row, Value

ColumnType = Literal["string", "int", "bool"]


@dataclass(frozen=True)
class Column:
    """A published field. `categorical` fields list every value with its count in the
    codebook; an identifier lists none (each value is one person)."""

    name: str
    type: ColumnType
    description: str
    categorical: bool = True


@dataclass(frozen=True)
class TableSpec:
    name: str
    description: str
    columns: tuple[Column, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)


MISSING_MEANS = (
    "empty (null): not recorded for this row, or withheld under the release's "
    "k-anonymity rule (the manifest counts the values withheld per field)"
)


def describe_table(
    spec: TableSpec, rows: Sequence[Row], files: Sequence[str] = ()
) -> dict[str, Any]:
    """One table's codebook entry, counted from the rows as published."""
    fields: list[dict[str, Any]] = []
    for column in spec.columns:
        values = [row.get(column.name) for row in rows]
        entry: dict[str, Any] = {
            "field": column.name,
            "type": column.type,
            "description": column.description,
            "missing": sum(1 for value in values if value is None),
        }
        if column.categorical:
            counts = Counter(value for value in values if value is not None)
            entry["values"] = [
                {"value": value, "count": count}
                for value, count in sorted(counts.items(), key=_order)
            ]
        fields.append(entry)
    return {
        "table": spec.name,
        "description": spec.description,
        "rows": len(rows),
        "files": list(files),
        "fields": fields,
    }


def _order(item: tuple[Value, int]) -> tuple[str, str]:
    value = item[0]
    return (type(value).__name__, str(value))


def write_codebook(
    directory: Path, release: str, tables: Sequence[Mapping[str, Any]], notes: Sequence[str] = ()
) -> tuple[Path, Path]:
    """DIR/codebook.json and DIR/codebook.md for the tables described (`describe_table`).

    Parts of a release are written by different commands: the tables of a codebook already
    there are kept, but those of the same name, which the given ones replace."""
    json_path = directory / "codebook.json"
    kept: list[Mapping[str, Any]] = []
    kept_notes: list[str] = []
    if json_path.is_file():
        previous = json.loads(json_path.read_text())
        names = {table["table"] for table in tables}
        kept = [table for table in previous.get("tables", []) if table.get("table") not in names]
        kept_notes = [note for note in previous.get("notes", []) if note not in notes]
    document = {
        "release": release,
        "missing": MISSING_MEANS,
        "notes": [*kept_notes, *notes],
        "tables": [*kept, *tables],
    }
    json_path.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n")
    md_path = directory / "codebook.md"
    md_path.write_text(codebook_markdown(document))
    return json_path, md_path


def codebook_markdown(document: Mapping[str, Any]) -> str:
    lines = [f"# Codebook: release {document['release']}", ""]
    lines += [f"Missing values are {document['missing']}.", ""]
    lines += [f"- {note}" for note in document.get("notes", ())]
    if document.get("notes"):
        lines.append("")
    for table in document["tables"]:
        lines += [f"## {table['table']} ({table['rows']} rows)", "", str(table["description"]), ""]
        if table.get("files"):
            lines += ["Files: " + ", ".join(f"`{name}`" for name in table["files"]), ""]
        lines += ["| field | type | missing | description | values (count) |"]
        lines += ["|---|---|---:|---|---|"]
        for entry in table["fields"]:
            values = entry.get("values")
            shown = (
                "; ".join(f"{_cell(v['value'])} ({v['count']})" for v in values)
                if values is not None
                else "(identifier: one value per person)"
            )
            lines.append(
                f"| `{entry['field']}` | {entry['type']} | {entry['missing']} | "
                f"{_cell(entry['description'])} | {shown or '(none)'} |"
            )
        lines.append("")
    return "\n".join(lines)


def _cell(value: object) -> str:
    text = "true" if value is True else "false" if value is False else str(value)
    return text.replace("|", "\\|").replace("\n", " ")
