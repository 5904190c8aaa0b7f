"""Run every command the README shows, exactly as printed, in this checkout (a fresh clone in CI).

    .venv/bin/python scripts/check_readme.py        (run by .ci/run after `make test`)

The README's ```sh blocks run in order in one bash session, as a newcomer would type them: `make run` in
the background (it serves until stopped), then every other command once the server answers, then the
```python blocks with the project's Python. `make test`, the README's second command, is .ci/run's own
first step and is not run twice. Two things are added around the commands, never inside them: `set -e`, so
a failing command fails the check, and `curl` given `--fail-with-body`, so an HTTP error does too.
"""

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER = "http://127.0.0.1:8000"
FIRST_BLOCK = ["make run", "make test"]


def blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL)


def commands_of(block: str) -> list[str]:
    """The commands of the first block, without their comments."""
    return [line.split("#")[0].strip() for line in block.splitlines() if line.split("#")[0].strip()]


def wait_for_server(server: subprocess.Popen, seconds: int = 900) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"`make run` stopped with {server.returncode} before serving")
        try:
            urllib.request.urlopen(f"{SERVER}/healthz", timeout=2)
            return
        except OSError:
            time.sleep(1)
    sys.exit(f"`make run` did not serve {SERVER} within {seconds} s")


def main() -> int:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shell_blocks = blocks(readme, "sh")
    if commands_of(shell_blocks[0]) != FIRST_BLOCK:
        sys.exit(f"the README must start with exactly: {FIRST_BLOCK}")
    environment = {key: value for key, value in os.environ.items() if key not in ("SECRET_KEY", "DEBUG")}
    print("--- make run (in the background) ---", flush=True)
    server = subprocess.Popen(["make", "run"], cwd=ROOT, env=environment, start_new_session=True)
    try:
        wait_for_server(server)
        script = ["set -euo pipefail", 'curl() { command curl --silent --show-error --fail-with-body "$@"; echo; }']
        for number, block in enumerate(shell_blocks[1:], start=2):
            script += [f"echo '--- README shell block {number} ---'", "set -x", block, "set +x"]
        done = subprocess.run(["bash", "-c", "\n".join(script)], cwd=ROOT, env=environment)
        if done.returncode:
            print(f"a README shell command failed (exit {done.returncode})", file=sys.stderr)
            return done.returncode
        for number, block in enumerate(blocks(readme, "python"), start=1):
            print(f"--- README Python block {number} ---", flush=True)
            ran = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-c", block], cwd=ROOT, env=environment)
            if ran.returncode:
                print(f"README Python block {number} failed (exit {ran.returncode})", file=sys.stderr)
                return ran.returncode
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
    print("every README command ran as printed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
