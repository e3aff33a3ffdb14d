"""Fuzz the zip/XML reading path of validation.

CI runs a few seconds of random mutations (tests/test_fuzz.py). A developer can
run it longer, with atheris when installed (coverage-guided) or without:

    python tests/fuzz_zip.py --seconds 600
    python tests/fuzz_zip.py -atheris -max_total_time=600
"""

from __future__ import annotations

import datetime as dt
import io
import random
import sys
import tempfile
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from workbook.validate import Context, validate_file  # noqa: E402


def check_one(data: bytes, ctx: Context, folder: Path) -> None:
    """The property: any bytes give findings, never an exception or an internal error."""
    path = folder / "市发改委_2026年6月.xlsx"
    path.write_bytes(data)
    sub = validate_file(path, ctx)
    internal = [f for f in sub.findings if f.code == "file-unreadable"]
    if internal:
        raise AssertionError(f"internal error on fuzzed input: {internal[0].message}")


def mutate(seed: bytes, rng: random.Random) -> bytes:
    """Mutate at the zip level (parts dropped, duplicated, corrupted) or the byte level."""
    kind = rng.randrange(5)
    if kind == 0:  # flip bytes anywhere
        data = bytearray(seed)
        for _ in range(rng.randint(1, 20)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data)
    if kind == 1:  # truncate
        return seed[: rng.randrange(len(seed))]
    with zipfile.ZipFile(io.BytesIO(seed)) as z:
        parts = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    if kind == 2:  # drop a part
        parts.pop(rng.randrange(len(parts)))
    elif kind == 3:  # corrupt the XML of a part
        i = rng.randrange(len(parts))
        name, data = parts[i]
        cut = rng.randrange(len(data) + 1)
        insert = rng.choice([b"<", b">", b"&", b'"', b"<c r=\"ZZZ99999999\"/>", b"<row r=\"-1\">",
                             b"<!DOCTYPE x>", b"\xff\xfe", b"<f>1+1</f>", b"</sheetData>"])
        parts[i] = (name, data[:cut] + insert + data[cut:])
    else:  # duplicate or add a part
        name, data = rng.choice(parts)
        parts.append((rng.choice([name, "xl/worksheets/sheet9.xml", "xl/vbaProject.bin"]), data))
    out = io.BytesIO()
    import warnings

    with warnings.catch_warnings(), zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        warnings.simplefilter("ignore")
        for name, data in parts:
            z.writestr(name, data)
    return out.getvalue()


def run(seed_file: Path, ctx: Context, seconds: float, rng_seed: int = 0) -> int:
    seed = seed_file.read_bytes()
    rng = random.Random(rng_seed)
    deadline = time.monotonic() + seconds
    n = 0
    with tempfile.TemporaryDirectory() as tmp:
        while time.monotonic() < deadline:
            check_one(mutate(seed, rng), ctx, Path(tmp))
            n += 1
    return n


def _setup() -> tuple[Path, Context]:
    from corpus.make_corpus import build

    from workbook.master import read_master
    from workbook.validate import context_from_master

    corpus = build(Path(tempfile.mkdtemp(prefix="duban-fuzz-")))
    return corpus.clean, context_from_master(read_master(corpus.master))


if __name__ == "__main__":
    seed_file, ctx = _setup()
    if "-atheris" in sys.argv:
        import atheris

        folder = Path(tempfile.mkdtemp())
        seed = seed_file.read_bytes()

        def one(data: bytes) -> None:
            check_one(mutate(seed, random.Random(data)) if len(data) < 8 else data, ctx, folder)

        atheris.Setup([a for a in sys.argv if a != "-atheris"], one)
        atheris.Fuzz()
    else:
        seconds = float(sys.argv[sys.argv.index("--seconds") + 1]) if "--seconds" in sys.argv else 60
        started = dt.datetime.now()
        count = run(seed_file, ctx, seconds, rng_seed=int(started.timestamp()))
        print(f"{count} inputs in {seconds:.0f} s, no internal error")
