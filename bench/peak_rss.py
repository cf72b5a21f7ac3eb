"""Run a command in a child process and measure it: shared by the memory benchmarks."""

import os
import subprocess
import time


def run_measured(command: list[str]) -> tuple[float, float]:
    """Run `command`; return its peak RSS (MB) and wall time (s). Exits with its stderr's tail if it fails."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    stderr = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command[:4])} ... failed: {stderr[-2000:]}")
    return usage.ru_maxrss / 1024, time.perf_counter() - start
