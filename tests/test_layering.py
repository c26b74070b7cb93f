"""The libraries stay libraries: `ml` never needs Django, `forms_ocr` needs neither Django nor torch."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.processes import ROOT

IMPORT_ALL = """
import importlib, json, pkgutil, sys
package = importlib.import_module({package!r})
for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
    if not module.name.endswith("__main__"):
        importlib.import_module(module.name)
print(json.dumps(sorted({{name.split(".")[0] for name in sys.modules}})))
"""


def _top_level_modules_after_importing(package: str) -> set[str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    out = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL.format(package=package)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    import json

    return set(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.mark.slow
def test_ml_imports_without_django():
    loaded = _top_level_modules_after_importing("ml")
    assert "ml" in loaded
    assert "django" not in loaded


@pytest.mark.slow
def test_forms_ocr_imports_without_django_or_torch():
    loaded = _top_level_modules_after_importing("forms_ocr")
    assert "forms_ocr" in loaded
    assert "django" not in loaded
    assert "torch" not in loaded
