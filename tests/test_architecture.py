"""The layer order the README states is the one the import contracts enforce, every module has
a place in it, and the pure modules import without Django."""

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PURE = [
    "botworker.attribution",
    "botworker.exts.invite_tracking._logic",
    "referrals.classify",
    "analytics.funnel",
    "analytics.charts",
    "analytics.webhooks.addresses",
    "analytics.webhooks.signing",
]


def contract(contract_id: str) -> dict:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return next(c for c in config["contracts"] if c["id"] == contract_id)


def contract_layers() -> list[set[str]]:
    return [
        {name.strip() for name in re.split(r"[:|]", layer) if name.strip()}
        for layer in contract("layers")["layers"]
    ]


def readme_layers() -> list[set[str]]:
    """The layer table in the README's Architecture section, top row first."""
    section = (ROOT / "README.md").read_text().split("## Architecture", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "`" in line]
    layer_rows = [row for row in rows if row.split("|")[1].strip()[:1].isdigit()]
    return [set(re.findall(r"`([a-z_.]+)`", row.split("|")[2])) for row in layer_rows]


def project_modules() -> set[str]:
    modules = set()
    for package in contract("dev-only")["source_modules"][:5] + ["botworker"]:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] != "__init__":
                modules.add(".".join(parts))
    return modules


def test_it_states_in_the_readme_the_layers_the_contract_enforces():
    assert readme_layers() == contract_layers()


def test_it_gives_every_module_a_layer():
    placed = set().union(*contract_layers())
    homeless = sorted(
        module
        for module in project_modules()
        if not any(module == p or module.startswith(p + ".") for p in placed)
    )
    assert homeless == []


def test_it_imports_the_pure_modules_without_django_settings():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    probe = (
        "import importlib, sys\n"
        f"for name in {PURE!r}:\n"
        "    importlib.import_module(name)\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('django', 'nextcord', 'celery', 'rest_framework'))\n"
        "print(loaded)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
