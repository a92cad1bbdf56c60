"""What every Python script under scripts/ does first: run scripts/setup, then go on under .venv/bin/python3.

    sys.path.insert(0, os.path.join(ROOT, "scripts", "lib"))
    import setup_env
    setup_env.enter_venv()          # before importing anything from requirements.txt

Standard library only: it runs under whichever python3 started the script.
"""
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV = os.path.join(ROOT, ".venv")
VENV_BIN = os.path.join(VENV, "bin")
# Set once scripts/setup has run in this process tree (scripts/test sets it too), so nested scripts skip it.
DONE = "TELEMETRY_SETUP_DONE"


def enter_venv():
    """Runs scripts/setup unless done, puts .venv/bin first on PATH, and re-executes the calling
    script under .venv/bin/python3 when another interpreter started it."""
    if os.environ.get(DONE) != "1":
        code = subprocess.run([os.path.join(ROOT, "scripts", "setup")]).returncode
        if code:
            sys.exit(code)
        os.environ[DONE] = "1"
    path = os.environ.get("PATH", "")
    if path.split(os.pathsep)[0] != VENV_BIN:
        os.environ["PATH"] = VENV_BIN + os.pathsep + path
    os.environ["VIRTUAL_ENV"] = VENV
    if os.path.realpath(sys.prefix) != os.path.realpath(VENV):
        python = os.path.join(VENV_BIN, "python3")
        script = os.path.abspath(sys.modules["__main__"].__file__)
        os.execv(python, [python, script] + sys.argv[1:])


def require_command(command, package):
    """The full path of `command`, or exit with the apt-get line that installs it: a missing tool fails, never skips."""
    found = shutil.which(command)
    if not found:
        sys.exit(f"{os.path.basename(sys.argv[0])}: '{command}' not found; install it with: "
                 f"sudo apt-get install -y {package} (or run scripts/setup)")
    return found


def venv_command(name):
    """A console script installed from requirements.txt (gunicorn, schemathesis), by its path in .venv."""
    path = os.path.join(VENV_BIN, name)
    if not os.access(path, os.X_OK):
        sys.exit(f"{os.path.basename(sys.argv[0])}: {path} is missing; run scripts/setup "
                 f"(or .venv/bin/pip install -r requirements.txt)")
    return path
