"""bench/proctree.py: CPU and memory of a command's whole process tree.

Each command here burns a known amount of CPU (process time, so the machine's
load does not change it) in a process of its own, and the measure must count
it: while sampled, after its last sample, or orphaned by its parent.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("proctree", ROOT / "bench" / "proctree.py")
assert _spec and _spec.loader
proctree = importlib.util.module_from_spec(_spec)
sys.modules["proctree"] = proctree
_spec.loader.exec_module(proctree)

BURN = """
import os, sys, time
def burn(seconds):
    t = time.process_time()
    while time.process_time() - t < seconds:
        pass
"""


def run_script(tmp_path: Path, body: str, **kw: object) -> proctree.TreeRun:
    script = tmp_path / "script.py"
    script.write_text(BURN + textwrap.dedent(body))
    run = proctree.measure([sys.executable, str(script)], **kw)
    assert run.returncode == 0, run.stderr
    return run


def test_a_sampled_child_is_counted_by_process(tmp_path: Path) -> None:
    run = run_script(
        tmp_path,
        """
        pid = os.fork()
        if not pid:
            burn(0.6)
            time.sleep(0.5)  # sampled after its work
            os._exit(0)
        burn(0.2)
        os.waitpid(pid, 0)
        """,
        interval=0.05,
    )
    roles = dict(run.by_process())
    assert roles["crawl"] == pytest.approx(0.2 + 0.03, abs=0.1)  # + interpreter start
    others = [cpu for role, cpu in run.by_process() if role.startswith("other")]
    assert others and max(others) == pytest.approx(0.6, abs=0.05)
    assert run.cpu_s == pytest.approx(0.8 + 0.03, abs=0.12)


def test_a_child_that_exits_between_samples_is_counted(tmp_path: Path) -> None:
    run = run_script(
        tmp_path,
        """
        time.sleep(0.3)  # after the first sample
        pid = os.fork()
        if not pid:
            burn(0.7)
            os._exit(0)
        os.waitpid(pid, 0)
        """,
        interval=30,  # one sample, at the start
    )
    assert run.samples == 1
    assert run.unsampled_s >= 0.65
    assert run.cpu_s == pytest.approx(0.7 + 0.03, abs=0.1)


def test_an_orphan_nobody_waits_for_is_counted(tmp_path: Path) -> None:
    run = run_script(
        tmp_path,
        """
        pid = os.fork()
        if not pid:
            if os.fork():  # the middle process exits at once: its child is orphaned
                os._exit(0)
            time.sleep(0.3)
            burn(0.7)
            os._exit(0)
        os.waitpid(pid, 0)  # the command then exits, its grandchild still burning
        """,
        interval=30,
    )
    assert not run.leftover
    assert run.cpu_s == pytest.approx(0.7 + 0.03, abs=0.1)


def test_fork_server_workers_are_named_and_counted(tmp_path: Path) -> None:
    run = run_script(
        tmp_path,
        """
        import multiprocessing
        if __name__ == "__main__":
            with multiprocessing.get_context("forkserver").Pool(2) as pool:
                pool.map(burn, [0.5, 0.5], chunksize=1)
        """,
        interval=0.05,
    )
    roles = run.by_role()
    assert "fork server" in roles
    assert roles["cleaning worker"] + roles.get("unsampled", 0) == pytest.approx(1.0, abs=0.15)
    workers = [role for role, _ in run.by_process() if role.startswith("cleaning worker")]
    assert workers == ["cleaning worker 1", "cleaning worker 2"]
    assert run.cpu_s >= 1.0


def test_peak_memory_of_the_tree_sums_its_processes(tmp_path: Path) -> None:
    run = run_script(
        tmp_path,
        """
        block = bytearray(os.urandom(1)) * (120 * 2**20)  # touched: resident
        pid = os.fork()  # the child writes its copy too: two resident blocks
        if not pid:
            block[:: 4096] = b"x" * len(block[:: 4096])
            time.sleep(0.6)
            os._exit(0)
        time.sleep(0.6)
        os.waitpid(pid, 0)
        """,
        interval=0.05,
    )
    assert run.peak_rss_mb >= 230
    assert run.peak_pss_mb >= 230  # written by both: not shared
    assert 120 <= run.max_rss_mb < 200  # the largest single process


def test_pages_shared_after_a_fork_count_once_in_pss(tmp_path: Path) -> None:
    run = run_script(
        tmp_path,
        """
        block = bytearray(os.urandom(1)) * (120 * 2**20)
        pid = os.fork()  # the child only reads: the pages stay shared
        if not pid:
            time.sleep(0.6)
            os._exit(0)
        time.sleep(0.6)
        os.waitpid(pid, 0)
        """,
        interval=0.05,
    )
    assert run.peak_rss_mb >= 230
    assert 120 <= run.peak_pss_mb < 180


def test_exit_status_and_stderr_come_back(tmp_path: Path) -> None:
    script = tmp_path / "fail.py"
    script.write_text("import sys\nprint('went wrong', file=sys.stderr)\nsys.exit(3)\n")
    run = proctree.measure([sys.executable, str(script)])
    assert run.returncode == 3
    assert "went wrong" in run.stderr


def test_the_memory_of_the_measuring_process_is_not_the_commands(tmp_path: Path) -> None:
    ballast = bytearray(os.urandom(1)) * (300 * 2**20)  # this process: large when it forks
    script = tmp_path / "small.py"
    script.write_text("import time\ntime.sleep(0.3)\n")
    run = proctree.measure([sys.executable, str(script)], interval=0.05)
    del ballast
    assert run.max_rss_mb < 100
    assert run.peak_rss_mb < 100
