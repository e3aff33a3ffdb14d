"""Breaking things on purpose: the master survives concurrent writers, kill -9, a full disk,
shared-drive permissions, links, outputs aimed at inputs and spreadsheet programs holding it open.

Subprocesses honour ``DUBAN_TEST_PAUSE`` (see ``workbook.ooxml.safe_write.checkpoint``): it
slows the write path down like a network share, or stops a run at an exact step to kill it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook
from test_validate import AS_OF

from workbook import form as F
from workbook import schema as S
from workbook.cli import main
from workbook import collect as collect_module
from workbook.collect import collect
from workbook.filling import fill_unit_file
from workbook.importer import import_to_file
from workbook.master import master_transaction, read_master, update_master
from workbook.ooxml import lock as L
from workbook.ooxml.safe_write import rotate_backups
from workbook.ooxml.sheetpatch import SheetEdits
from workbook.split import split_master

from conftest import ROOT, SOURCE

UNITS = {"市发改委": 10, "市财政局": 4, "土左旗政府": 4, "托县政府": 5}  # unit → tasks it leads
ROWS = sum(UNITS.values())
COLLECT_STEPS = ["locked", "validated", "backup-temp", "backup", "master-temp", "master", "archive-temp", "archive"]
SPLIT_STEPS = ["locked", "units-temp", "backup-temp", "backup", "master-temp", "master", "publish"]


@pytest.fixture(scope="module")
def template(tmp_path_factory, sample_master_file):
    """An office folder: the master, and an inbox with one filled return from each of four units."""
    root = tmp_path_factory.mktemp("safety") / "督查室 台账"
    root.mkdir()
    master = root / "总台账.xlsx"
    shutil.copy(sample_master_file, master)
    split_master(master, root / "下发", units=list(UNITS))
    inbox = root / "收件箱"
    inbox.mkdir()
    rng = random.Random(7)
    for i, (unit, n) in enumerate(UNITS.items()):
        path = root / "下发" / f"{unit}_2026年6月.xlsx"
        # Narratives as long as real ones: the originals to archive outweigh the master, as in any office.
        long = {f"{F.letter(col)}{r}": "".join(chr(rng.randrange(0x4E00, 0x5200)) for _ in range(600))
                for col in (S.NARRATIVE, S.NEXT_STEPS) for r in range(F.FIRST_ROW, F.FIRST_ROW + n)}
        fill_unit_file(path, AS_OF, seed=i, report_date=dt.date(2026, 6, 20), overrides=long)
        shutil.move(path, inbox / path.name)
    shutil.rmtree(root / "下发")
    shutil.rmtree(root / "总台账_备份")
    return root


def office(template: Path, where: Path) -> tuple[Path, Path]:
    root = where / template.name
    shutil.copytree(template, root)
    return root / "总台账.xlsx", root / "收件箱"


def history(master: Path) -> list[list]:
    rows = CalamineWorkbook.from_path(str(master)).get_sheet_by_name(S.HISTORY).to_python()
    return [r for r in rows[1:] if any(v not in ("", None) for v in r)]


def issued_digests(master: Path) -> set[str]:
    rows = CalamineWorkbook.from_path(str(master)).get_sheet_by_name(S.ISSUED).to_python()
    col = rows[0].index("摘要SHA256")
    return {r[col] for r in rows[1:]}


def meta_digest(unit_file: Path) -> str:
    rows = CalamineWorkbook.from_path(str(unit_file)).get_sheet_by_name(F.META).to_python()
    return dict((r[0], r[1]) for r in rows)["摘要SHA256"]


def final_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")]


def leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob(".*") if p.is_file()]


def assert_nothing_partial(root: Path, inbox: Path, old_master: bytes) -> None:
    """Every file under a final name is complete: workbooks open, backups are whole masters,
    archived originals equal what was submitted."""
    for p in final_files(root):
        if p.suffix == ".xlsx":
            with zipfile.ZipFile(p) as z:
                assert z.testzip() is None, p
        if p.parent.name == "总台账_备份":
            assert p.read_bytes() == old_master, p
        if "总台账_归档" in p.parts:
            assert p.read_bytes() == (inbox / p.name).read_bytes(), p


def assert_collected(master: Path, inbox: Path) -> None:
    rows = history(master)
    assert len(rows) == ROWS and {r[1] for r in rows} == set(UNITS)
    archive = master.parent / "总台账_归档" / "2026-06"
    for p in inbox.iterdir():
        assert (archive / p.name).read_bytes() == p.read_bytes()
    assert not leftovers(master.parent), leftovers(master.parent)


def duban_cmd(*args: object) -> list[str]:
    return [sys.executable, "-m", "workbook.cli", *map(str, args)]


def env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), **extra}


def stopped_at(step: str, *args: object) -> subprocess.Popen:
    """A duban run paused at ``step`` (told on stderr), ready to be killed."""
    proc = subprocess.Popen(duban_cmd(*args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=env(DUBAN_TEST_PAUSE=f"{step}=60"))
    for line in proc.stderr:
        if line.strip() == f"duban-test-pause {step}":
            return proc
    raise AssertionError(f"the run never reached {step} (exit {proc.wait()})")


def kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    proc.stderr.close()


# ------------------------------------------------------------------ concurrent writers


def test_concurrent_collects_lose_no_row(template, tmp_path):
    """Four collects of four units at once, each writing slowly: every exit 0 has its rows in the master."""
    master, inbox = office(template, tmp_path)
    procs = []
    for i, path in enumerate(sorted(inbox.iterdir())):
        own = inbox.parent / f"收件箱{i}"
        own.mkdir()
        shutil.copy(path, own / path.name)
        procs.append(subprocess.Popen(duban_cmd("collect", own, "--master", master), stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True,
                                      env=env(DUBAN_TEST_PAUSE="backup=0.4,master-temp=0.4")))
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    assert [rc for rc, _, _ in results] == [0, 0, 0, 0], results
    assert any("正被另一个 duban 命令使用" in err for _, _, err in results)  # someone waited, and was told
    rows = history(master)
    assert sorted(r[1] for r in rows) == sorted(u for u, n in UNITS.items() for _ in range(n))
    assert len(list((master.parent / "总台账_备份").iterdir())) == 4
    assert not leftovers(master.parent)


def test_lock_is_exclusive_reentrant_and_refreshed(tmp_path, monkeypatch):
    real = tmp_path / "台账.xlsx"
    real.write_bytes(b"x")
    monkeypatch.setattr(L, "HEARTBEAT", 0.05)
    with L.MasterLock(real, command="collect"):
        holder = json.loads(L.lock_path(real).read_text("utf-8"))
        assert holder["pid"] == os.getpid() and holder["host"] == socket.gethostname() and holder["command"]
        with L.MasterLock(real):  # the same thread again: no self-deadlock
            pass
        assert L.lock_path(real).exists()
        os.utime(L.lock_path(real), (time.time() - 100, time.time() - 100))
        time.sleep(0.3)
        assert time.time() - L.lock_path(real).stat().st_mtime < 5  # the heartbeat refreshed it
    assert not L.lock_path(real).exists()


def write_lock(master: Path, age: float = 0, **holder: object) -> Path:
    path = L.lock_path(master)
    path.write_text(json.dumps({"host": "PC-财务室", "pid": 4321, "user": "李四", "since": "2026-06-25 10:32:00",
                                "command": "collect", "token": "x", **holder}, ensure_ascii=False), "utf-8")
    os.utime(path, (time.time() - age, time.time() - age))
    return path


def test_lock_held_elsewhere_waits_then_fails_clearly(template, tmp_path, capsys):
    master, inbox = office(template, tmp_path)
    before = master.read_bytes()
    lock = write_lock(master)
    assert main(["collect", str(inbox), "--master", str(master), "--wait", "0.5"]) == 2
    err = capsys.readouterr().err
    assert "最多等待 0.5 秒" in err  # the waiting message came first
    assert "李四" in err and "PC-财务室" in err and str(lock) in err and "--wait" in err
    assert master.read_bytes() == before and lock.exists()


@pytest.mark.parametrize("case", ["dead process here", "no heartbeat elsewhere", "half-written"])
def test_stale_lock_is_taken_over(template, tmp_path, case):
    master, inbox = office(template, tmp_path)
    if case == "dead process here":
        gone = subprocess.Popen([sys.executable, "-c", "pass"])
        gone.wait()
        write_lock(master, host=socket.gethostname(), pid=gone.pid)
    elif case == "no heartbeat elsewhere":
        write_lock(master, age=L.STALE_AFTER + 5)
    else:
        L.lock_path(master).write_bytes(b"")
        os.utime(L.lock_path(master), (time.time() - 60, time.time() - 60))
    assert main(["collect", str(inbox), "--master", str(master), "--wait", "0"]) == 0
    assert_collected(master, inbox)


# ------------------------------------------------------------------ kill -9


def check_after_kill_and_rerun(master: Path, inbox: Path, before: bytes) -> None:
    rows = history(master)
    assert len(rows) in (0, ROWS)  # the master is the old one or the new one
    assert (master.read_bytes() == before) == (not rows)
    assert_nothing_partial(master.parent, inbox, before)
    result = collect([inbox], master)
    assert result.batch.valid and len(result.accepted) + len(result.already) == 4
    assert_collected(master, inbox)


@pytest.mark.parametrize("step", COLLECT_STEPS)
def test_collect_killed_at_each_step_then_rerun(template, tmp_path, step):
    master, inbox = office(template, tmp_path)
    before = master.read_bytes()
    kill(stopped_at(step, "collect", inbox, "--master", master))
    check_after_kill_and_rerun(master, inbox, before)


def test_collect_killed_at_random_moments_then_rerun(template, tmp_path):
    rng = random.Random(12)
    for i in range(4):
        master, inbox = office(template, tmp_path / str(i))
        before = master.read_bytes()
        proc = subprocess.Popen(duban_cmd("collect", inbox, "--master", master), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, env=env(DUBAN_TEST_PAUSE="*=0.04"))
        time.sleep(rng.uniform(0.3, 1.0))
        kill(proc)
        check_after_kill_and_rerun(master, inbox, before)


def check_split_after_kill(master: Path, out: Path) -> None:
    recorded = issued_digests(master)
    for p in final_files(out):  # every issued file is complete and recorded in the master
        with zipfile.ZipFile(p) as z:
            assert z.testzip() is None, p
        assert meta_digest(p) in recorded, p
    split_master(master, out, units=list(UNITS), force=True)
    recorded = issued_digests(master)
    assert sorted(p.name for p in final_files(out)) == sorted(f"{u}_2026年6月.xlsx" for u in UNITS)
    assert all(meta_digest(p) in recorded for p in final_files(out))
    assert not leftovers(out) and not leftovers(master.parent)


@pytest.mark.parametrize("step", SPLIT_STEPS)
def test_split_killed_at_each_step_then_rerun(template, tmp_path, step):
    master, _ = office(template, tmp_path)
    out = tmp_path / "下发 七月"
    kill(stopped_at(step, "split", master, "-o", out, *[a for u in UNITS for a in ("--unit", u)]))
    check_split_after_kill(master, out)


def test_split_killed_at_random_moments_then_rerun(template, tmp_path):
    rng = random.Random(7)
    for i in range(3):
        master, _ = office(template, tmp_path / str(i))
        out = tmp_path / str(i) / "下发"
        proc = subprocess.Popen(duban_cmd("split", master, "-o", out, "--in-master",
                                          *[a for u in UNITS for a in ("--unit", u)]),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env(DUBAN_TEST_PAUSE="*=0.04"))
        time.sleep(rng.uniform(0.4, 2.0))
        kill(proc)
        check_split_after_kill(master, out)


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


def _running(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc to find the worker processes")
def test_workers_end_with_a_killed_parent(template, tmp_path):
    master, _ = office(template, tmp_path)
    proc = stopped_at("unit", "split", master, "-o", tmp_path / "下发", "--workers", "2")
    workers = _children(proc.pid)
    assert workers
    kill(proc)
    deadline = time.time() + 10
    while any(_running(w) for w in workers) and time.time() < deadline:
        time.sleep(0.1)
    assert not any(_running(w) for w in workers)


# ------------------------------------------------------------------ a full disk


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MB tmpfs (skipped where mounting is not permitted)."""
    mnt = tmp_path / "小盘"
    mnt.mkdir()
    if os.name != "posix" or shutil.which("mount") is None:
        pytest.skip("needs mount(8) to make a small file system")
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if proc.returncode:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {proc.stderr.strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def leave_free(disk: Path, free: int) -> Path:
    filler = disk / "占位.bin"
    st = os.statvfs(disk)
    size = st.f_bavail * st.f_frsize - free
    with open(filler, "wb") as fh:
        for _ in range(max(size, 0) // 65536):
            fh.write(b"\0" * 65536)
        fh.write(b"\0" * (max(size, 0) % 65536))
    return filler


def assert_one_clear_line(err: str) -> None:
    line = err.strip()
    assert line.startswith("duban: ") and "\n" not in line, err
    assert "磁盘空间不足" in line and "（）" not in line and "Traceback" not in err
    assert "/" in line  # names a file


@pytest.mark.parametrize("early", [False, True], ids=["archive after the master", "archive copied meanwhile"])
def test_collect_on_a_full_disk_at_every_size(template, small_disk, capsys, monkeypatch, early):
    """Free space swept a few pages at a time: the lock, the backup, the master, then the archive run out.

    With many originals (``early``), a child process copies them while the master is written: whichever
    runs out of space first, the outcome is one clear line, nothing partial, and a rerun completes it."""
    args = ["--workers", "2"] if early else []
    if early:
        monkeypatch.setattr(collect_module, "EARLY_COPY_MIN_FILES", 1)
    outcomes = set()
    # Up to enough for all of it: the lock, a backup, the new master (with the answers), the originals.
    inbox = sum(p.stat().st_size for p in (template / "收件箱").iterdir())
    for free in range(0, 2 * (template / "总台账.xlsx").stat().st_size + 3 * inbox, 24576 if early else 8192):
        for p in list(small_disk.iterdir()):
            shutil.rmtree(p) if p.is_dir() else p.unlink()
        master, inbox = office(template, small_disk)
        before = master.read_bytes()
        filler = leave_free(small_disk, free)
        rc = main(["collect", str(inbox), "--master", str(master), *args])
        err = capsys.readouterr().err
        outcomes.add("归档原件失败" if "归档原件失败" in err else rc)
        if rc:
            assert rc == 2
            assert_one_clear_line(err)
        rows = history(master)
        assert len(rows) in (0, ROWS) and (master.read_bytes() == before) == (not rows)
        assert_nothing_partial(master.parent, inbox, before)
        if not rows:  # the master unchanged: no copy of this run is left in the archive
            assert not [p for p in leftovers(master.parent) if "总台账_归档" in p.parts]
        filler.unlink()
        assert main(["collect", str(inbox), "--master", str(master), *args]) == 0
        capsys.readouterr()
        assert_collected(master, inbox)
    if early:
        # Copied meanwhile, the originals mostly use space before the commit, so a full disk stops the run
        # before it; on a busy machine the copying may still run after it (then the archive fails alone).
        assert {0, 2} <= outcomes <= {0, 2, "归档原件失败"}
    else:
        assert outcomes == {0, 2, "归档原件失败"}


def test_split_and_report_on_a_full_disk(template, small_disk, capsys):
    for free in (0, 8_000, 24_000, 48_000, 90_000):
        for p in list(small_disk.iterdir()):
            shutil.rmtree(p) if p.is_dir() else p.unlink()
        master, _ = office(template, small_disk)
        out = small_disk / "下发"
        filler = leave_free(small_disk, free)
        rc = main(["split", str(master), "-o", str(out), "--unit", "市发改委", "--unit", "市财政局"])
        if rc:
            assert rc == 2
            assert_one_clear_line(capsys.readouterr().err)
        capsys.readouterr()
        with zipfile.ZipFile(master) as z:
            assert z.testzip() is None
        for p in final_files(out) if out.exists() else []:
            assert meta_digest(p) in issued_digests(master)
        rc = main(["report", str(master), "-o", str(small_disk / "通报.xlsx")])
        if rc:
            assert_one_clear_line(capsys.readouterr().err)
            assert not (small_disk / "通报.xlsx").exists()
        capsys.readouterr()
        filler.unlink()
        assert not [p for p in leftovers(small_disk) if "下发" in p.parts or p.name.startswith(".通报")]
    filler = leave_free(small_disk, 100_000)  # every unit, in worker processes: their error comes back whole
    assert main(["split", str(master), "-o", str(out), "--workers", "2", "--force"]) == 2
    assert_one_clear_line(capsys.readouterr().err)
    assert not leftovers(out)


def test_read_only_share_is_one_clear_line(template, small_disk, capsys):
    master, inbox = office(template, small_disk)
    before = master.read_bytes()
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    assert main(["collect", str(inbox), "--master", str(master)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "只读" in err and str(master.parent) in err
    assert master.read_bytes() == before


# ------------------------------------------------------------------ permissions, links, outputs


def test_every_write_keeps_mode_owner_and_group(template, tmp_path):
    master, inbox = office(template, tmp_path)
    root = os.geteuid() == 0
    uid, gid = (4242, 4343) if root else (os.getuid(), os.getgid())
    os.chown(master, uid, gid)
    os.chmod(master, 0o640)

    def kept(path: Path) -> None:
        st = os.stat(path)
        assert (stat.S_IMODE(st.st_mode), st.st_gid) == (0o640, gid), path
        assert st.st_uid == uid or not root, path

    split_master(master, tmp_path / "下发", units=["市发改委"], period="2026-06")
    kept(master)
    split_master(master, tmp_path / "下发", units=["市发改委"], in_master=True, force=True)
    kept(master)
    collect([inbox], master)
    kept(master)
    import_to_file(SOURCE, master, 2026, "2026-06", force=True)
    kept(master)
    for p in final_files(master.parent):
        if "总台账_备份" in p.parts or "总台账_归档" in p.parts:
            kept(p)


@pytest.mark.parametrize("umask, mode", [(0o027, 0o640), (0o002, 0o664)])
def test_new_files_follow_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        import_to_file(SOURCE, tmp_path / "总台账.xlsx", 2026, "2026-06")
        assert main(["report", str(tmp_path / "总台账.xlsx"), "-o", str(tmp_path / "通报.xlsx")]) == 0
    finally:
        os.umask(old)
    for name in ("总台账.xlsx", "通报.xlsx"):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == mode


def test_symlinked_master_is_written_through_the_link(template, tmp_path):
    master, inbox = office(template, tmp_path)
    desk = tmp_path / "桌面"
    desk.mkdir()
    link = desk / "台账快捷方式.xlsx"
    link.symlink_to(master)
    assert main(["collect", str(inbox), "--master", str(link)]) == 0
    assert link.is_symlink() and link.resolve() == master.resolve()
    assert len(history(master)) == ROWS
    assert list((master.parent / "总台账_备份").iterdir()) and not list(desk.glob("*_备份"))
    assert sorted(p.name for p in desk.iterdir()) == ["台账快捷方式.xlsx"]
    assert not L.lock_path(master).exists()


def test_hard_linked_master_is_refused(template, tmp_path, capsys):
    master, inbox = office(template, tmp_path)
    os.link(master, tmp_path / "领导看板.xlsx")
    before = master.read_bytes()
    assert main(["collect", str(inbox), "--master", str(master)]) == 2
    assert "硬链接" in capsys.readouterr().err
    assert master.read_bytes() == before and not (master.parent / "总台账_备份").exists()


def test_outputs_never_replace_inputs(template, tmp_path, capsys):
    master, inbox = office(template, tmp_path)
    before = master.read_bytes()
    link = tmp_path / "link.xlsx"
    link.symlink_to(master)
    backups = master.parent / "总台账_备份"
    for argv in (["report", master, "-o", master], ["report", master, "-o", link, "--force"],
                 ["report", link, "-o", master], ["validate", inbox, "--master", master, "--out", backups],
                 ["collect", inbox, "--master", master, "--out", backups],
                 ["collect", inbox, "--master", master, "--out", master.parent / "总台账_归档" / "x"]):
        assert main([str(a) for a in argv]) == 2, argv
        err = capsys.readouterr().err
        assert "已拒绝" in err and err.count("\n") == 1, err
    assert master.read_bytes() == before and not backups.exists()
    (tmp_path / "~$通报.xlsx").write_bytes(excel_owner_file("王五"))
    assert main(["report", str(master), "-o", str(tmp_path / "通报.xlsx"), "--force"]) == 2
    assert "文件 通报.xlsx 正被 Excel/WPS 打开（王五）" in capsys.readouterr().err
    source = tmp_path / "方案.txt"
    shutil.copy(SOURCE, source)
    assert main(["import", str(source), "-o", str(source), "--year", "2026", "--force"]) == 2
    assert source.read_bytes() == SOURCE.read_bytes()


def test_existing_outputs_need_force(template, tmp_path, capsys):
    master, inbox = office(template, tmp_path)
    report = tmp_path / "通报.xlsx"
    assert main(["report", str(master), "-o", str(report)]) == 0
    first = report.read_bytes()
    assert main(["report", str(master), "-o", str(report)]) == 2
    assert "--force" in capsys.readouterr().err and report.read_bytes() == first
    assert main(["report", str(master), "-o", str(report), "--force"]) == 0
    out = tmp_path / "结果"
    assert main(["validate", str(inbox), "--master", str(master), "--out", str(out)]) == 0
    assert main(["validate", str(inbox), "--master", str(master), "--out", str(out)]) == 2
    before = master.read_bytes()
    assert main(["collect", str(inbox), "--master", str(master), "--out", str(out)]) == 2
    assert master.read_bytes() == before  # refused before the master was touched
    assert main(["collect", str(inbox), "--master", str(master), "--out", str(out), "--force"]) == 0
    assert len(history(master)) == ROWS


# ------------------------------------------------------------------ spreadsheet programs holding the master


def excel_owner_file(user: str) -> bytes:
    """An Office owner file (``~$name``): length byte, ANSI name padded to 54 bytes, then the
    length, a zero byte and the name in UTF-16LE, padded (162 bytes in all, as Excel writes them)."""
    ansi = user.encode("gbk")
    head = bytes([len(user)]) + ansi + b" " * (53 - len(ansi))
    return (head + bytes([len(user), 0]) + user.encode("utf-16-le")).ljust(162, b"\0")


@pytest.mark.parametrize("name, content, program, who", [
    ("~$总台账.xlsx", excel_owner_file("王五"), "Excel", ["王五"]),
    (".~lock.总台账.xlsx#", "赵六,zhaoliu,PC-督查室,25.06.2026 10:32,file:///home/zhaoliu/.config/libreoffice/4;"
                            .encode(), "LibreOffice", ["赵六", "zhaoliu", "PC-督查室", "25.06.2026 10:32"]),
    (".~总台账.xlsx", b"", "WPS", []),
    (".~台账.xlsx", b"", "WPS", []),
])
def test_master_open_in_a_spreadsheet_program_is_never_written(template, tmp_path, capsys, name, content,
                                                               program, who):
    master, inbox = office(template, tmp_path)
    (master.parent / name).write_bytes(content)
    before = master.read_bytes()
    for argv in (["collect", inbox, "--master", master], ["split", master, "-o", tmp_path / "下发"]):
        assert main([str(a) for a in argv]) == 2
        err = capsys.readouterr().err
        assert program in err and all(w in err for w in who) and name in err, err
    assert master.read_bytes() == before and not (master.parent / "总台账_备份").exists()


def test_master_open_in_real_libreoffice_is_never_written(template, tmp_path, capsys):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        pytest.skip("LibreOffice (libreoffice-calc) is not installed on this machine")
    master, inbox = office(template, tmp_path)
    before = master.read_bytes()
    lo_lock = master.parent / ".~lock.总台账.xlsx#"
    proc = subprocess.Popen([soffice, f"-env:UserInstallation=file://{tmp_path}/lo", "--headless", "--norestore",
                             str(master)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.time() + 60
        while not lo_lock.exists() and time.time() < deadline:
            time.sleep(0.2)
        assert lo_lock.exists(), "LibreOffice did not open the master"
        assert main(["collect", str(inbox), "--master", str(master)]) == 2
        err = capsys.readouterr().err
        assert "LibreOffice" in err and socket.gethostname() in err
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert master.read_bytes() == before


# ------------------------------------------------------------------ backups


def test_backup_rotation_keeps_recent_and_one_per_month(tmp_path):
    real = tmp_path / "总台账.xlsx"
    folder = tmp_path / "总台账_备份"
    folder.mkdir()
    now = dt.datetime(2026, 6, 25, 12)
    stamps = [now - dt.timedelta(days=d, hours=h) for d in range(0, 500, 7) for h in (0, 5)]
    stamps += [now - dt.timedelta(minutes=m) for m in range(1, 40)]
    for s in stamps:
        (folder / f"总台账_{s:%Y%m%d-%H%M%S-%f}.xlsx").write_bytes(b"x")
    (folder / "说明.txt").write_text("staff notes stay")
    rotate_backups(real, 30, 12, now)
    kept = sorted(folder.glob("总台账_*.xlsx"))
    newest = sorted(stamps, reverse=True)[:30]
    months = {(s.year, s.month) for s in stamps if (now.year * 12 + now.month) - (s.year * 12 + s.month) < 12}
    assert {f"总台账_{s:%Y%m%d-%H%M%S-%f}.xlsx" for s in newest} <= {p.name for p in kept}
    assert {(int(p.name[4:8]), int(p.name[8:10])) for p in kept} == months
    assert len(kept) == 30 + len(months) - 1  # the current month's last backup is among the newest
    assert (folder / "说明.txt").exists()


def test_backup_setting_in_the_master_is_honoured(template, tmp_path):
    master, _ = office(template, tmp_path)
    keys = [k for k, _ in read_master(master).settings.rows()]
    row = keys.index(S.S_BACKUP_KEEP) + 2
    update_master(master, lambda m: {S.SETTINGS: SheetEdits(cells={(row, 2): 2})})
    assert read_master(master).settings.backup_keep == 2
    for _ in range(3):
        with master_transaction(master) as tx:
            tx.patch({S.HISTORY: SheetEdits()})
    assert len(list((master.parent / "总台账_备份").iterdir())) == 2
    assert openpyxl.load_workbook(master)[S.SETTINGS].cell(row, 1).value == "备份保留份数"
