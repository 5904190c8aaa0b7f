"""Whole-database backup and restore, with each database's own tools: SQLite's online backup API (a
consistent copy while the service runs), PostgreSQL's pg_dump and pg_restore (custom format)."""

import glob
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.db import connection


def backup(target: Path) -> None:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        with sqlite3.connect(settings["NAME"]) as source, sqlite3.connect(target) as copy:
            source.backup(copy)
        return
    _run_pg("pg_dump", ["--format=custom", f"--file={target}"], settings)


def restore(source: Path) -> None:
    """Replace the database's contents with the backup's (stop the service first)."""
    if not source.is_file():
        raise FileNotFoundError(source)
    settings = connection.settings_dict
    connection.close()
    if connection.vendor == "sqlite":
        with sqlite3.connect(source) as copy, sqlite3.connect(settings["NAME"]) as live:
            copy.backup(live)
        return
    _run_pg("pg_restore", ["--clean", "--if-exists", "--no-owner", "--single-transaction", str(source)], settings)


def _run_pg(tool: str, arguments: list[str], settings: dict) -> None:
    command = [_pg_tool(tool), *arguments, f"--dbname={settings['NAME']}"]
    for option, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if settings.get(key):
            command.append(f"{option}={settings[key]}")
    env = {**os.environ, **({"PGPASSWORD": settings["PASSWORD"]} if settings.get("PASSWORD") else {})}
    subprocess.run(command, check=True, env=env)


def _pg_tool(name: str) -> str:
    """The tool on PATH, or from Debian's versioned directory (which PATH does not reach)."""
    versioned = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    found = shutil.which(name) or (versioned[-1] if versioned else None)
    if found is None:
        raise FileNotFoundError(f"{name} is not installed")
    return found
