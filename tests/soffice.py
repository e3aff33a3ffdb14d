"""LibreOffice as the tests run it: headless, with a profile of its own, converting files once."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Iterable, Mapping

import pytest


def convert(files: Iterable[Path], to: str, outdir: Path, timeout: float = 180,
            env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``soffice --convert-to <to>`` of ``files`` into ``outdir``; skips the test where LibreOffice is missing.

    Each run gets a fresh profile (parallel runs must not share one) at a path without spaces: soffice
    aborts on some profile URLs with them.
    """
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        pytest.skip("LibreOffice (soffice) is not installed")
    profile = Path(tempfile.mkdtemp(prefix="lo-test-"))
    try:
        return subprocess.run([soffice, "--headless", f"-env:UserInstallation={profile.as_uri()}", "--convert-to",
                               to, "--outdir", str(outdir), *map(str, files)],
                              capture_output=True, text=True, timeout=timeout, env=None if env is None else dict(env))
    finally:
        shutil.rmtree(profile, ignore_errors=True)
