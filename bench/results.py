"""bench/results.md: each benchmark records its section there, beside the machine's description.

    from results import record
    record("PDF", markdown_text)

A section is `## <title>` up to the next `## `; recording it again replaces it, so the file
always holds the last run of every benchmark. The head of the file describes the machine the
last recorded run measured (processor, cores, memory, Python, PostgreSQL, Redis).
"""

import os
import platform
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results.md"
HEAD = "# Benchmark results\n"


def machine() -> str:
    """A short description of this machine and the servers the benchmarks talk to."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = re.findall(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.M)
        cpu = names[0] if names else cpu
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(re.search(r"MemTotal:\s+(\d+)", meminfo.read_text()).group(1))
        memory = f"{kib / 1024 / 1024:.0f} GiB"
    return (
        f"- processor: {cpu}, {os.cpu_count()} cores; memory: {memory}\n"
        f"- {platform.system()} {platform.release()}, Python {platform.python_version()}\n"
        f"- PostgreSQL: {_version(['psql', '--version'])}; Redis: "
        f"{_version(['redis-server', '--version'])}\n"
    )


def record(title: str, body: str) -> None:
    """Write (or replace) the section `title` of bench/results.md with `body`."""
    text = RESULTS.read_text() if RESULTS.exists() else HEAD
    sections = re.split(r"(?m)^(?=## )", text)
    head, sections = sections[0], sections[1:]
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = f"## {title}\n\nMeasured {stamp}.\n\n{body.strip()}\n\n"
    sections = [s.rstrip() + "\n\n" for s in sections]
    kept = [s for s in sections if not s.startswith(f"## {title}\n")]
    index = next((i for i, s in enumerate(sections) if s.startswith(f"## {title}\n")), len(kept))
    kept.insert(index, section)
    head = re.split(r"(?m)^Machine", head)[0].rstrip() + "\n\n"
    head += f"Machine of the last recorded run:\n\n{machine()}\n"
    RESULTS.write_text(head + "".join(kept).rstrip() + "\n")


def table(rows: list[tuple], header: tuple) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _version(command: list[str]) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return "unknown"
