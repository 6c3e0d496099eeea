"""Start the servers under test on 127.0.0.1, time them to their first 200, read their memory, stop them.

Only loopback: every server is told to bind 127.0.0.1 on a free port found by binding port 0 there.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

__all__ = ["Server", "free_port", "tree_cpu_s", "tree_rss_kib"]

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # the ppid is the second field after the parenthesised command name
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out


def tree_rss_kib(pid: int) -> int:
    """Resident memory of a process and all its descendants, in KiB (VmRSS from /proc)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
        todo.extend(_children(current))
    return total


def tree_cpu_s(pid: int) -> float:
    """CPU time (user + system) of a process and all its descendants so far, in seconds (/proc stat)."""
    ticks, total, todo = os.sysconf("SC_CLK_TCK"), 0, [pid]
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime and stime, the 14th and 15th fields
        todo.extend(_children(current))
    return total / ticks


@dataclass
class Server:
    """One server process. `argv` may contain `{port}`, filled in at start."""

    name: str
    argv: list[str]
    token: str = "mock-key-full"
    ready_path: str = "/v1/severities"
    log: Path | None = None
    port: int = 0
    startup_s: float = 0.0
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, timeout: float = 60) -> None:
        """Spawn the process and poll until the ready path answers 200; record the time it took."""
        self.port = free_port()
        argv = [part.format(port=self.port) for part in self.argv]
        out = open(self.log, "wb") if self.log else subprocess.DEVNULL  # noqa: SIM115
        env = {**os.environ, "SCARF_ANALYTICS": "false", "NO_COLOR": "1"}
        started = time.perf_counter()
        self.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.base, headers=headers, timeout=2) as client:
            while time.perf_counter() - started < timeout:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.log}")
                try:
                    if client.get(self.ready_path).status_code == 200:
                        self.startup_s = time.perf_counter() - started
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.01)
        self.stop()
        raise RuntimeError(f"{self.name} gave no 200 on {self.ready_path} within {timeout} s")

    def rss_kib(self) -> int:
        return tree_rss_kib(self.proc.pid) if self.proc else 0

    def cpu_s(self) -> float:
        return tree_cpu_s(self.proc.pid) if self.proc else 0.0

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
