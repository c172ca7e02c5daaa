"""The commands on a terminal: a progress bar on a TTY, plain lines elsewhere, nothing with -v 0;
Ctrl-C ends in one line with exit 130 and leaves nothing behind; conventions shared by the commands.

The commands run through manage.py in subprocesses, against scratch SQLite files (the test
database lives in a transaction no subprocess can see): a source holding the demo project, and an
empty, migrated target. A pseudo-terminal (pty) stands for the operator's terminal.
"""

from __future__ import annotations

import fcntl
import io
import json
import os
import pty
import select
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from django.conf import settings

from dwca_port.progress import SILENT
from dwca_port.terminal import TerminalProgress, terminal_progress

MANAGE = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
SLOW_MANAGE = [sys.executable, str(Path(__file__).with_name("slow_manage.py"))]  # for Ctrl-C: no race
INTERRUPTED = "interrupted: nothing was written"


@pytest.fixture(scope="module")
def databases(tmp_path_factory) -> dict[str, Path]:
    """Scratch SQLite files: the demo project (source) and an empty instance (target), built once."""
    folder = tmp_path_factory.mktemp("terminal")
    source, target = folder / "source.sqlite3", folder / "target.sqlite3"
    for path in (source, target):
        subprocess.run([*MANAGE, "migrate", "--verbosity", "0"], env=_env(path), check=True, capture_output=True)
    subprocess.run([*MANAGE, "load_demo_project"], env=_env(source), check=True, capture_output=True)
    return {"source": source, "target": target}


@pytest.fixture
def scratch(databases, tmp_path_factory) -> dict[str, Path]:
    """This test's own copies of the scratch databases (outside tmp_path, which holds its outputs)."""
    folder = tmp_path_factory.mktemp("databases")
    return {name: Path(shutil.copy(path, folder / path.name)) for name, path in databases.items()}


def _env(database: Path) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "COLUMNS": "120"}


def _export(database: Path, output: Path, *more: str, **run) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*MANAGE, "export_project", "--project", "1", "--output", str(output), *more],
        env=_env(database),
        capture_output=True,
        text=True,
        **run,
    )


def _counts(database: Path) -> dict[str, int]:
    with sqlite3.connect(database) as db:
        tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {name: db.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in tables}


# -- the listener itself ------------------------------------------------------------------------


def test_plain_lines_say_each_stage_its_advance_and_its_end():
    stream = io.StringIO()
    progress = TerminalProgress(stream, bar=False, every=0)
    progress.stage("occurrence.txt", 20_000)
    progress.advance(10_000)
    progress.say("a decision worth a line")
    progress.stage("checks", None, "bytes")
    progress.advance(1_500)
    progress.finish()
    lines = [line.split("] ", 1)[1] for line in stream.getvalue().splitlines()]
    assert lines[0] == "occurrence.txt: 20,000 rows to go"
    assert lines[1].startswith("occurrence.txt: 10,000 of 20,000 rows (50%), about ")
    assert lines[1].endswith(" rows/s") and " s left, " in lines[1]
    assert lines[2] == "a decision worth a line"
    assert lines[3].startswith("occurrence.txt: 10,000 rows in ")
    assert lines[4:6] == ["checks: started", lines[5]] and lines[5].startswith("checks: 1,500 bytes, ")
    assert lines[6].startswith("checks: 1,500 bytes in ") and len(lines) == 7


def test_a_stage_that_counts_nothing_ends_with_its_time_only():
    stream = io.StringIO()
    progress = TerminalProgress(stream, bar=False)
    progress.stage("caches", None, "steps")
    progress.finish()
    assert [line.split("] ", 1)[1] for line in stream.getvalue().splitlines()][1].startswith("caches: finished in ")


def test_plain_lines_of_a_running_stage_come_at_most_every_period():
    stream = io.StringIO()
    progress = TerminalProgress(stream, bar=False, every=3600)
    progress.stage("detections", 1_000_000)
    for _ in range(1000):
        progress.advance(1000)
    progress.finish()
    assert len(stream.getvalue().splitlines()) == 2  # its start and its end


def test_verbosity_zero_hears_nothing_and_a_tty_gets_a_bar():
    assert terminal_progress(io.StringIO(), 0) is SILENT
    assert terminal_progress(io.StringIO(), 1).bar is False
    main, other = pty.openpty()
    with os.fdopen(other, "w") as terminal:
        assert terminal_progress(terminal, 1).bar is True
    os.close(main)


# -- the commands -------------------------------------------------------------------------------


@pytest.mark.slow
def test_on_a_terminal_the_export_shows_bars_with_totals_rate_and_eta(scratch, tmp_path):
    main, other = pty.openpty()
    fcntl.ioctl(other, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # an operator's terminal
    output = tmp_path / "demo.zip"
    process = subprocess.Popen(
        [*MANAGE, "export_project", "--project", "1", "--output", str(output)],
        env=_env(scratch["source"]),
        stdin=other,
        stdout=other,
        stderr=other,
        close_fds=True,
    )
    os.close(other)
    seen = _read_all(main, process)
    assert process.wait(timeout=120) == 0, seen
    # a tqdm bar per table: name, percentage, count of total, elapsed<remaining, rate
    assert "antenna_occurrence.txt: 100%" in seen and "95/95" in seen
    assert "rows/s]" in seen and "<00:00" in seen
    assert "Exported project 1" in seen and "total" in seen  # the summary
    assert output.exists()


def _read_all(fd: int, process: subprocess.Popen) -> str:
    chunks = []
    while True:
        ready, _, _ = select.select([fd], [], [], 1)
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError:  # the other end closed
                break
            if not data:
                break
            chunks.append(data)
        elif process.poll() is not None:
            break
    os.close(fd)
    return b"".join(chunks).decode(errors="replace")


@pytest.mark.slow
def test_not_on_a_terminal_the_export_prints_plain_lines_and_with_v0_nothing(scratch, tmp_path):
    plain = _export(scratch["source"], tmp_path / "a.zip")
    assert plain.returncode == 0, plain.stderr
    lines = plain.stderr.splitlines()
    assert "\r" not in plain.stderr and all(line.startswith("[") for line in lines)
    assert any(line.endswith("] antenna_occurrence.txt: 95 rows to go") for line in lines)
    assert any("] validate: " in line and " bytes in " in line for line in lines)
    for quiet in (["-v", "0"], ["--quiet"]):
        silent = _export(scratch["source"], tmp_path / f"{quiet[-1]}.zip", *quiet)
        assert silent.returncode == 0 and silent.stderr == ""
        assert silent.stdout.startswith("Exported project 1")  # the summary stays


@pytest.mark.slow
def test_import_and_validation_progress_follows_the_verbosity(scratch, tmp_path):
    archive = tmp_path / "demo.zip"
    assert _export(scratch["source"], archive, "-v", "0").returncode == 0
    checked = subprocess.run(
        [*MANAGE, "validate_archive", str(archive)], env=_env(scratch["target"]), capture_output=True, text=True
    )
    assert checked.returncode == 0 and "] validate: " in checked.stderr
    imported = subprocess.run(
        [*MANAGE, "import_project", str(archive), "--create-missing-users", "-v", "0"],
        env=_env(scratch["target"]),
        capture_output=True,
        text=True,
    )
    assert imported.returncode == 0 and imported.stderr == ""
    assert "archive: format version 3, written by toolkit" in imported.stdout


def _interrupt_when(process: subprocess.Popen, marker: str) -> list[str]:
    """Send SIGINT (Ctrl-C) once a stderr line contains `marker`; the lines read until the end."""
    lines = []
    for line in process.stderr:
        lines.append(line.rstrip("\n"))
        if marker in line:
            process.send_signal(signal.SIGINT)
            break
    lines += process.stderr.read().splitlines()
    return lines


@pytest.mark.slow
def test_ctrl_c_during_an_export_says_so_in_one_line_and_leaves_no_file(scratch, tmp_path):
    output = tmp_path / "demo.zip"
    process = subprocess.Popen(
        [*SLOW_MANAGE, "export_project", "--project", "1", "--output", str(output)],
        env=_env(scratch["source"]),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines = _interrupt_when(process, "] event.txt: started")
    assert process.wait(timeout=60) == 130, lines
    assert lines[-1] == INTERRUPTED and not any("Traceback" in line for line in lines)
    assert process.stdout.read() == ""
    assert list(tmp_path.iterdir()) == []  # neither the archive nor its .partial


@pytest.mark.slow
def test_ctrl_c_during_an_import_says_so_in_one_line_and_changes_nothing(scratch, tmp_path):
    archive = tmp_path / "demo.zip"
    assert _export(scratch["source"], archive, "-v", "0").returncode == 0
    before = _counts(scratch["target"])
    report = tmp_path / "report.json"
    process = subprocess.Popen(
        [*SLOW_MANAGE, "import_project", str(archive), "--create-missing-users", "--report", str(report)],
        env=_env(scratch["target"]),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines = _interrupt_when(process, "] main.Project: 1 rows to go")
    assert process.wait(timeout=60) == 130, lines
    assert lines[-1] == INTERRUPTED and not any("Traceback" in line for line in lines)
    assert _counts(scratch["target"]) == before
    assert not report.exists()


# -- conventions --------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "given", "refusal"),
    [
        ("x.json", "dwca", "the extension .json means --format json, not --format dwca"),
        ("x.zip", "json", "the extension .zip means --format dwca or camtrap-dp, not --format json"),
        ("x.ZIP", "json", "the extension .zip means --format dwca or camtrap-dp, not --format json"),
    ],
)
def test_an_output_name_contradicting_the_format_is_refused(scratch, tmp_path, name, given, refusal):
    output = tmp_path / name
    result = _export(scratch["source"], output, "--format", given)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"CommandError: {output}: {refusal}; rename the output or drop --format"
    ]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_without_format_the_extension_decides_and_the_summary_says_so(scratch, tmp_path):
    as_json = _export(scratch["source"], tmp_path / "x.json", "-v", "0")
    assert "as json (inferred from the .json extension)" in as_json.stdout
    assert (tmp_path / "x.json").read_text().startswith("{")
    other = _export(scratch["source"], tmp_path / "x.dwca", "-v", "0")
    assert "as dwca (the default)" in other.stdout


@pytest.mark.slow
def test_a_refused_import_counts_conflicts_on_screen_and_lists_their_uuids_in_the_report(scratch, tmp_path):
    archive = tmp_path / "demo.zip"
    assert _export(scratch["source"], archive, "-v", "0").returncode == 0
    report = tmp_path / "report.json"
    result = subprocess.run(
        [*MANAGE, "import_project", str(archive), "--report", str(report), "-v", "0"],
        env=_env(scratch["source"]),  # the project is there already
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert "main.SourceImage 120" in line and "main.Detection 333" in line and "their UUIDs: --report FILE" in line
    assert "-" not in line.split("(by UUID): ")[1].split(";")[0]  # counts, not UUIDs
    conflicts = json.loads(report.read_text())["conflicts"]
    assert len(conflicts["main.SourceImage"]) == 120
