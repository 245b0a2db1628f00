"""Training metrics: one JSON line and one CSV row per logged step, rewound on resume."""

from __future__ import annotations

import csv
import io
import json
import logging
from pathlib import Path

from livegan.train.checkpoint import atomic_write

log = logging.getLogger(__name__)

# CSV columns, in order; keys outside this list go to the JSONL file only.
COLUMNS = (
    "step", "time", "images_per_s", "d_loss", "g_loss", "d_real", "d_fake",
    "features", "kid", "fid", "color_dist", "precision", "recall", "diversity", "duplicates",
    "nn_ratio", "copies", "collapse", "memorising",
)


class MetricsLog:
    """RUN/metrics.jsonl (every key) and RUN/metrics.csv (the COLUMNS), appended per row.

    A spreadsheet or pandas reads the CSV; the JSONL keeps anything a later version adds.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.jsonl = self.folder / "metrics.jsonl"
        self.csv = self.folder / "metrics.csv"
        self.columns: list[str] = list(COLUMNS)

    def _rows(self) -> list[dict]:
        """Every readable JSONL row; a line cut short by a kill is skipped."""
        if not self.jsonl.is_file():
            return []
        rows = []
        for line in self.jsonl.read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(row, dict) and isinstance(row.get("step"), int):
                rows.append(row)
        return rows

    def _csv_text(self, rows: list[dict]) -> str:
        out = io.StringIO()
        writer = csv.DictWriter(out, self.columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue()

    def rewind(self, step: int) -> None:
        """Drop rows after `step` (the checkpoint a run resumes from), so a resumed run's
        logs read as one run with no repeated steps; rebuild the CSV from the JSONL."""
        rows = [r for r in self._rows() if r["step"] <= step]
        jsonl = "".join(json.dumps(r) + "\n" for r in rows)
        if rows or self.jsonl.exists():
            atomic_write(self.jsonl, lambda f: f.write(jsonl.encode()))
        csv_text = self._csv_text(rows)
        atomic_write(self.csv, lambda f: f.write(csv_text.encode()))

    def write(self, row: dict) -> None:
        """Append one row to both files."""
        if not self.csv.is_file():
            self.rewind(row["step"] - 1)  # a run from before metrics.csv existed: backfill
        with open(self.jsonl, "a") as f:
            f.write(json.dumps(row) + "\n")
        with open(self.csv, "a", newline="") as f:
            csv.DictWriter(f, self.columns, extrasaction="ignore",
                           lineterminator="\n").writerow(row)


def read_metrics(run: Path) -> list[dict]:
    """The rows of RUN/metrics.jsonl, oldest first (for tests, notebooks and reports)."""
    return MetricsLog(Path(run))._rows()
