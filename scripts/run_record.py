"""Benchmark run files written by the benchmark itself, so every figure in the docs carries
what made it: the command, the git commit (and whether the tree had changes), the host, its
cores, the date, the settings and the raw rows.

    write_run(Path("docs/benchmarks-runs/scale"), rows, table, settings={...})
    -> scale.json (everything, machine-readable) and scale.md (a header and the table)
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()


def run_facts() -> dict:
    """Where and from what this run came."""
    return {
        "command": " ".join(["python", *sys.argv]),
        "git_sha": _git("rev-parse", "HEAD"),
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "host": platform.node(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write_run(out: Path, rows: list[dict], table: str, settings: dict | None = None) -> None:
    """Write out.json (facts, settings, rows) and out.md (the facts as a header, then table)."""
    facts = run_facts()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(
        {**facts, "settings": settings or {}, "rows": rows}, indent=1, ensure_ascii=False) + "\n")
    dirty = " (with uncommitted changes)" if facts["git_dirty"] else ""
    header = [f"`{facts['command']}`", "",
              f"git {facts['git_sha'][:10]}{dirty}"
              f" · host {facts['host']} · {facts['cores']} cores · Python {facts['python']}"
              f" · {facts['date']}"]
    if settings:
        header.append("settings: " + ", ".join(f"{k}={v}" for k, v in settings.items()))
    out.with_suffix(".md").write_text("\n".join([*header, "", table, ""]))
    print(f"written: {out.with_suffix('.md')} and .json", file=sys.stderr)
