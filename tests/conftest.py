from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings

# CI runs a fixed, short set of examples; HYPOTHESIS_PROFILE=long explores for real.
settings.register_profile("ci", max_examples=60, derandomize=True)
settings.register_profile("long", max_examples=3000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# The xlwings face is tested as xlwings Server and Lite run it (PRO, noncommercial terms).
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")

# Validation contexts the tests keep (workbook.validation_cache) go to a private folder of this run,
# never the user's cache; subprocesses inherit it.
if "DUBAN_CACHE_DIR" not in os.environ:
    os.environ["DUBAN_CACHE_DIR"] = tempfile.mkdtemp(prefix="duban-test-cache-")
    atexit.register(shutil.rmtree, os.environ["DUBAN_CACHE_DIR"], True)

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "hohhot-2026"
SOURCE = SAMPLE / "2026年重点工作任务分解方案.txt"


@pytest.fixture(scope="session")
def sample_master_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from workbook.importer import import_to_file

    path = tmp_path_factory.mktemp("sample") / "总台账.xlsx"
    import_to_file(SOURCE, path, 2026, "2026-06")
    return path


@pytest.fixture
def master_copy(sample_master_file: Path, tmp_path: Path) -> Path:
    """A private copy of the sample master, in a folder whose name has Chinese and a space."""
    folder = tmp_path / "督查室 台账"
    folder.mkdir()
    path = folder / "总台账.xlsx"
    shutil.copy(sample_master_file, path)
    return path
