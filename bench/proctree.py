"""CPU and memory of a command's whole process tree, by process (Linux /proc only).

    run = measure([sys.executable, "-m", "scrapy", "crawl", ...], cwd=ROOT)
    run.cpu_s, run.by_role(), run.peak_rss_mb

The command runs as a child of this process. While it runs, every process of
its tree is sampled from ``/proc/<pid>/stat`` (``utime + stime`` and the
resident set) every ``interval`` seconds, and named by its role: the crawl
process itself, multiprocessing's fork server, each cleaning worker (a child
of the fork server), the resource tracker, any other child.

A process that exits between two samples is not lost: the kernel adds a
reaped child's CPU to its parent's, up to the command itself, and
``getrusage(RUSAGE_CHILDREN)`` in the wrapper the command runs under gives the
total of every process of the tree that was waited for (the crawl reaps its fork server, the fork server its workers). What no
sample saw (a worker's last tenth of a second, a short-lived child) is
reported as ``unsampled_s``, the difference between that total and the sum of
the last samples. A process that no one waited for (an orphan) is only counted
by its samples; the total is the larger of the two.

Peak memory is the largest sum of the tree's resident sets over the samples
(``peak_rss_mb``; it counts the pages a fork server shares with its forked
workers once per process), and the same sum of proportional set sizes
(``peak_pss_mb``, each shared page split between its sharers); ``max_rss_mb`` is the largest single process, from the
kernel (``ru_maxrss`` of the reaped tree), which no sampling can miss.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Stat:
    pid: int
    ppid: int
    cpu_s: float  # utime + stime of the process itself (all its threads)
    rss: int  # bytes


def read_stat(pid: int) -> Stat | None:
    """One process's ``/proc/<pid>/stat``, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read()
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: split after the last ")"
    fields = raw.rsplit(b")", 1)[1].split()
    if len(fields) < 22 or fields[0] == b"Z":  # a zombie's figures are already its parent's
        return None
    return Stat(
        pid,
        int(fields[1]),
        (int(fields[11]) + int(fields[12])) / TICK,
        int(fields[21]) * PAGE,
    )


def read_pss(pid: int) -> int:
    """Proportional set size (bytes): resident pages shared with other
    processes (a fork server and its forked workers) count a share each."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def all_stats() -> dict[int, Stat]:
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = read_stat(int(entry))
            if st is not None:
                out[st.pid] = st
    return out


def tree(root: int, stats: dict[int, Stat]) -> list[int]:
    """``root`` and its descendants among ``stats``."""
    kids: dict[int, list[int]] = {}
    for st in stats.values():
        kids.setdefault(st.ppid, []).append(st.pid)
    todo, seen = [root], []
    while todo:
        p = todo.pop()
        if p in stats:
            seen.append(p)
        todo.extend(kids.get(p, ()))
    return seen


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


@dataclass
class TreeRun:
    """What :func:`measure` saw of one command's process tree."""

    returncode: int = 0
    wall_s: float = 0.0
    stderr: str = ""
    #: the last sample of each process: pid -> CPU seconds
    last_cpu: dict[int, float] = field(default_factory=dict)
    #: pid -> role ("crawl", "fork server", "cleaning worker", "resource tracker", "other: NAME")
    roles: dict[int, str] = field(default_factory=dict)
    #: CPU of the whole reaped tree, from the kernel (RUSAGE_CHILDREN of the wrapper)
    reaped_cpu_s: float = 0.0
    peak_rss: int = 0  # bytes, the largest sum of the tree's resident sets
    peak_pss: int = 0  # bytes, the same with shared pages counted once
    max_rss: int = 0  # bytes, the largest single process of the reaped tree
    samples: int = 0
    #: descendants still running ``grace`` seconds after the command ended
    leftover: bool = False

    @property
    def sampled_cpu_s(self) -> float:
        return sum(self.last_cpu.values())

    @property
    def cpu_s(self) -> float:
        return max(self.reaped_cpu_s, self.sampled_cpu_s)

    @property
    def unsampled_s(self) -> float:
        """CPU the samples missed (processes' work after their last sample)."""
        return max(0.0, self.reaped_cpu_s - self.sampled_cpu_s)

    @property
    def peak_rss_mb(self) -> float:
        return self.peak_rss / 2**20

    @property
    def peak_pss_mb(self) -> float:
        return self.peak_pss / 2**20

    @property
    def max_rss_mb(self) -> float:
        return self.max_rss / 2**20

    def by_process(self) -> list[tuple[str, float]]:
        """(role, CPU seconds) per process, the crawl first, workers numbered
        in order of appearance, and the unsampled rest last."""
        out, workers = [], 0
        for pid, cpu in self.last_cpu.items():  # insertion order: order of appearance
            role = self.roles.get(pid, "other")
            if role == "cleaning worker":
                workers += 1
                role = f"cleaning worker {workers}"
            out.append((role, cpu))
        out.sort(key=lambda rc: rc[0] != "crawl")
        if self.unsampled_s:
            out.append(("unsampled (after a last sample)", self.unsampled_s))
        return out

    def by_role(self) -> dict[str, float]:
        """CPU seconds per role, summed over processes of that role."""
        out: dict[str, float] = {}
        for pid, cpu in self.last_cpu.items():
            role = self.roles.get(pid, "other")
            out[role] = out.get(role, 0.0) + cpu
        if self.unsampled_s:
            out["unsampled"] = self.unsampled_s
        return out

    def describe(self, units: int, unit: str = "page") -> str:
        """CPU ms per ``unit`` of each process and the total, on one line."""
        n = max(1, units)
        parts = [f"{role} {1000 * cpu / n:.1f}" for role, cpu in self.by_process()]
        return (
            f"CPU per {unit} of the process tree {1000 * self.cpu_s / n:.1f} ms"
            f" ({', '.join(parts)}); peak memory of the tree {self.peak_rss_mb:.0f} MB RSS,"
            f" {self.peak_pss_mb:.0f} MB PSS (largest process {self.max_rss_mb:.0f} MB)"
        )


#: the command runs under this wrapper: a child subreaper (prctl), so that a
#: descendant orphaned by its parent (a fork server nobody waited for) comes back
#: to it and is reaped, and its CPU counted, instead of going to init. It waits
#: for the command, then up to ``grace`` seconds for such orphans, and writes the
#: CPU and largest resident set of all it reaped (``RUSAGE_CHILDREN``: not its own,
#: whose peak includes the image of the process that forked it) and whether it
#: left orphans running, to ``report``.
WRAPPER = """
import ctypes, os, resource, sys, time
report, grace, argv = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
child = os.fork()
if not child:
    try:
        os.execvp(argv[0], argv)
    finally:
        os._exit(127)
status = os.waitpid(child, 0)[1]
deadline, left = time.monotonic() + grace, 0
while True:
    try:
        pid = os.waitpid(-1, os.WNOHANG)[0]
    except ChildProcessError:
        break
    if not pid:
        if time.monotonic() > deadline:
            left = 1
            break
        time.sleep(0.02)
kids = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(report, "w") as f:
    f.write(f"{kids.ru_utime + kids.ru_stime} {kids.ru_maxrss} {left}")
os._exit(os.waitstatus_to_exitcode(status) % 256)
"""


def _role(pid: int, root: int, stats: dict[int, Stat], roles: dict[int, str]) -> str:
    if stats[pid].ppid == root and "crawl" not in roles.values():
        return "crawl"  # the wrapper's first child: the command (orphans come later)
    cmd = _cmdline(pid)
    if "forkserver" in cmd:
        # the fork server's children are forked from it: same command line. A
        # worker and its fork server may first appear in one sample, the worker
        # first: name the parent before the child.
        ppid = stats[pid].ppid
        if ppid not in roles and ppid in stats and ppid != root:
            roles[ppid] = _role(ppid, root, stats, roles)
        parent = roles.get(ppid)
        return "cleaning worker" if parent == "fork server" else "fork server"
    if "resource_tracker" in cmd:
        return "resource tracker"
    if "multiprocessing" in cmd or "spawn_main" in cmd:
        return "cleaning worker"
    name = cmd.split(" ", 1)[0].rsplit("/", 1)[-1] or str(pid)
    return f"other: {name}"


def measure(
    cmd: Sequence[str],
    *,
    cwd: Path | str | None = None,
    interval: float = 0.1,
    env: dict[str, str] | None = None,
    grace: float = 10.0,
) -> TreeRun:
    """Run ``cmd`` (stdout discarded, stderr kept) and measure its process tree
    until the command and every descendant it left behind (up to ``grace``
    seconds more) have exited."""

    run = TreeRun()
    with tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile("r") as report:
        wrapper = [sys.executable, "-c", WRAPPER, report.name, str(grace), *cmd]
        t0 = time.perf_counter()
        proc = subprocess.Popen(wrapper, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=err)
        while True:
            pid, status = os.waitpid(proc.pid, os.WNOHANG)
            if pid:
                break
            stats = all_stats()
            rss = pss = 0
            for p in tree(proc.pid, stats):
                if p == proc.pid:
                    continue
                if p not in run.roles:
                    run.roles[p] = _role(p, proc.pid, stats, run.roles)
                run.last_cpu[p] = max(run.last_cpu.get(p, 0.0), stats[p].cpu_s)
                rss += stats[p].rss
                pss += read_pss(p)
            run.peak_rss = max(run.peak_rss, rss)
            run.peak_pss = max(run.peak_pss, pss)
            run.samples += 1
            next_at = time.perf_counter() + interval
            while time.perf_counter() < next_at and not os.waitid(
                os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT
            ):
                time.sleep(min(0.02, interval))
        run.wall_s = time.perf_counter() - t0
        proc.returncode = run.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        run.stderr = err.read().decode(errors="replace")
        reaped, maxrss, left = (report.read().split() or ["0", "0", "0"])[:3]
    run.leftover = left == "1"
    run.reaped_cpu_s = float(reaped)
    run.max_rss = int(maxrss) * 1024  # KiB on Linux
    if "crawl" not in run.roles.values():  # it ended before the first sample
        run.last_cpu[-1] = 0.0
        run.roles[-1] = "crawl"
    return run
