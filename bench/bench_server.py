"""The service under test: started with `injection-cds serve` on loopback, probed, measured."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

BENCH = Path(__file__).resolve().parent
HOST = "127.0.0.1"


# --- the server ------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def serve_command(port: int, workers: int) -> list[str]:
    script = Path(sys.executable).with_name("injection-cds")
    args = ["serve", "--host", HOST, "--port", str(port), "--workers", str(workers)]
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-c", "from injection_cds.cli.main import main; main()", *args]


def post(url: str, body: bytes, timeout: float = 5.0) -> tuple[int, bytes]:
    req = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:  # noqa: S310 (loopback)
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


class Server:
    """``injection-cds serve`` in a child process, with its log in a file.

    The service runs on its defaults (INFO request log lines, SQLite ledger) except for the
    instance directory, which is temporary.
    """

    def __init__(self, port: int, workers: int, instance_dir: Path, log_path: Path) -> None:
        self.port = port
        self.workers = workers
        self.log_path = log_path
        env = dict(os.environ)
        env.pop("INJECTION_CDS_CONFIG", None)
        env["INJECTION_CDS_INSTANCE_DIR"] = str(instance_dir)
        env["INJECTION_CDS_BENCHMARK_MODE"] = "1"  # serves POST /_floor
        self._log = open(log_path, "wb")  # noqa: SIM115 (closed in stop())
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            serve_command(port, workers),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=instance_dir,
            start_new_session=True,
        )

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{path}"

    def wait_first_answer(self, path: str, body: bytes, timeout: float = 30.0) -> float:
        """Seconds from process start to the first 200 answer to ``path``."""
        deadline = self.started + timeout
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited ({self.process.returncode}):\n{self.log()}")
            try:
                status, _ = post(self.url(path), body, timeout=2.0)
            except (OSError, urllib.error.URLError):
                time.sleep(0.01)
                continue
            if status == 200:
                return time.perf_counter() - self.started
            raise RuntimeError(f"{path} answered {status}:\n{self.log()}")
        raise RuntimeError(f"no answer within {timeout} s:\n{self.log()}")

    def worker_pids(self) -> list[int]:
        children = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == self.process.pid:
                children.append(int(entry.name))
        return sorted(children)

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # gunicorn: graceful shutdown of master and workers
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self._log.close()


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of a process, in kB."""
    found: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0])
    except OSError:
        pass
    return found
