"""Reading curriculum files (course.yaml, module folders, Markdown lessons) and syncing rows to them by key."""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.db import models


class CurriculumError(Exception):
    """A curriculum file is missing or malformed; the message names the file."""


@dataclass
class CurriculumReport:
    """Counts of what a load created, updated, deleted or left unchanged, per kind."""

    counts: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    warnings: list[str] = field(default_factory=list)

    def record(self, kind: str, outcome: str, n: int = 1) -> None:
        if n:
            self.counts[kind][outcome] += n

    @property
    def changed(self) -> bool:
        return any(c[o] for c in self.counts.values() for o in ("created", "updated", "deleted"))

    def lines(self) -> list[str]:
        return [
            f"{kind}: " + ", ".join(f"{outcome} {n}" for outcome, n in sorted(counter.items()))
            for kind, counter in sorted(self.counts.items())
        ]


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CurriculumError(f"{path}: file not found") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise CurriculumError(f"{path}: cannot be read as UTF-8 YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise CurriculumError(f"{path}: expected a mapping at the top level")
    return data


def require(data: dict[str, Any], name: str, path: Path, kind: type = str) -> Any:
    value = data.get(name)
    if value is None or (kind is str and not str(value).strip()):
        raise CurriculumError(f"{path}: '{name}' is required")
    if not isinstance(value, kind):
        raise CurriculumError(f"{path}: '{name}' must be a {kind.__name__}")
    return value.strip() if isinstance(value, str) else value


def require_one_of(value: Any, name: str, choices: Any, where: Any) -> Any:
    """``value`` if it is one of ``choices`` (a ``TextChoices`` class), else a CurriculumError
    naming the file or item (``where``) and every allowed value."""
    if value not in choices.values:
        raise CurriculumError(f"{where}: {name} must be one of {', '.join(choices.values)}")
    return value


def read_markdown(path: Path) -> tuple[dict[str, Any], str]:
    """Split a Markdown file into its YAML front matter and body."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise CurriculumError(f"{path}: file not found") from exc
    if not text.startswith("---"):
        raise CurriculumError(f"{path}: must start with YAML front matter between '---' lines")
    parts = text.split("\n---", 1)
    if len(parts) != 2:
        raise CurriculumError(f"{path}: front matter is not closed with '---'")
    try:
        meta = yaml.safe_load(parts[0][3:]) or {}
    except yaml.YAMLError as exc:
        raise CurriculumError(f"{path}: front matter is not valid YAML: {exc}") from exc
    if not isinstance(meta, dict):
        raise CurriculumError(f"{path}: front matter must be a mapping")
    body = parts[1].split("\n", 1)[1] if "\n" in parts[1] else ""
    return meta, body.strip() + "\n"


def sync_fields(instance: models.Model, values: dict[str, Any]) -> bool:
    """Set ``values`` on ``instance`` and save only if something differs; True when saved."""
    changed = [name for name, value in values.items() if getattr(instance, name) != value]
    for name in changed:
        setattr(instance, name, values[name])
    if changed:
        update_fields = changed + [f.name for f in instance._meta.concrete_fields if getattr(f, "auto_now", False)]
        instance.save(update_fields=update_fields)
    return bool(changed)


def sync_row(
    *, kind: str, instance: models.Model | None, values: dict[str, Any], create: Any, report: CurriculumReport
) -> models.Model:
    """Create the row (``create(**values)``) when ``instance`` is None, else sync its fields; record which."""
    if instance is None:
        report.record(kind, "created")
        return create(**values)
    report.record(kind, "updated" if sync_fields(instance, values) else "unchanged")
    return instance


def sync_children(
    *,
    kind: str,
    existing: dict[str, models.Model],
    wanted: list[dict[str, Any]],
    create: Any,
    report: CurriculumReport,
) -> dict[str, models.Model]:
    """Create, update or leave each wanted row (matched by ``key``); return them by key."""
    result: dict[str, models.Model] = {}
    for values in wanted:
        key = values["key"]
        instance = existing.get(key)
        if instance is None:
            result[key] = create(**values)
            report.record(kind, "created")
        else:
            report.record(kind, "updated" if sync_fields(instance, values) else "unchanged")
            result[key] = instance
    return result


def sync_delete_missing(
    *,
    kind: str,
    existing: dict[str, models.Model],
    kept: dict[str, models.Model],
    report: CurriculumReport,
    before: Any = None,
) -> list[int]:
    """Delete the rows of ``existing`` the files no longer name (not in ``kept``); return their ids.

    ``before()`` runs first when something is to be deleted (e.g. to take locks in a safe order)."""
    removed = [row.pk for key, row in existing.items() if key not in kept]
    if removed:
        if before is not None:
            before()
        type(next(iter(existing.values()))).objects.filter(pk__in=removed).delete()
        report.record(kind, "deleted", len(removed))
    return removed


def sync_replace(
    *, kind: str, related: Any, wanted: list[dict[str, Any]], report: CurriculumReport, before: Any = None
) -> dict[str, models.Model]:
    """Make the rows of ``related`` (a related manager, e.g. ``module.lessons``; rows with a ``key``)
    what ``wanted`` says: create (through the manager), update or leave each wanted row
    (``sync_children``), delete those the files no longer name (``sync_delete_missing``, with
    ``before``); return the wanted rows by key."""
    existing = {row.key: row for row in related.all()}
    kept = sync_children(kind=kind, existing=existing, wanted=wanted, create=related.create, report=report)
    sync_delete_missing(kind=kind, existing=existing, kept=kept, report=report, before=before)
    return kept
