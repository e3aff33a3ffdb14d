"""The xlwings Server route over HTTP: ``duban serve`` in a subprocess, called as Excel calls it."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from duban_server import Server, start
from xlremote import apply, payload, sheets_from_file

import xlplugin.scripts as scripts
from workbook import schema as S
from workbook.filling import fill_unit_file
from workbook.master import read_master
from workbook.split import split_master

WRITER, READER = "writer-token-1", "reader-token-2"
pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


@pytest.fixture(scope="module")
def office(sample_master_file: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A master that issued two unit workbooks, the data folder with the filled ones, and a folder outside."""
    root = tmp_path_factory.mktemp("server")
    master = root / "台账" / "总台账.xlsx"
    master.parent.mkdir()
    shutil.copy(sample_master_file, master)
    data = root / "数据"
    inbox = data / read_master(master).settings.master_id / "报送文件"
    inbox.mkdir(parents=True)
    split_master(master, inbox, units=["市发改委", "市民政局"])
    for p in inbox.iterdir():
        fill_unit_file(p, dt.date(2026, 6, 30))
    outside = root / "外部 目录"
    outside.mkdir()
    shutil.copy(master, outside / "总台账.xlsx")  # a real file a client might name as its book
    shutil.copy(next(inbox.iterdir()), outside / "别处的报送.xlsx")
    users = root / "users.json"
    users.write_text(json.dumps({"users": [
        {"name": "督查室", "roles": [scripts.WRITER_ROLE], "token_sha256": hashlib.sha256(WRITER.encode()).hexdigest()},
        {"name": "查看者", "roles": [], "token_sha256": hashlib.sha256(READER.encode()).hexdigest()},
    ]}, ensure_ascii=False))
    return {"master": master, "data": data, "inbox": inbox, "outside": outside, "users": users, "root": root}


@pytest.fixture(scope="module")
def server(office: dict) -> Server:
    s = start(["--data-dir", str(office["data"]), "--users", str(office["users"]), "--max-request-mb", "1"],
              office["root"] / "serve.log")
    yield s
    s.stop()


def tree(folder: Path) -> list[tuple[str, int]]:
    return sorted((str(p.relative_to(folder)), p.lstat().st_mtime_ns) for p in folder.rglob("*"))


def book(master: Path, name: str = "总台账.xlsx", **settings: str) -> tuple[dict, dict]:
    sheets = sheets_from_file(master)
    for row in sheets[S.SETTINGS]:
        if row and row[0] in settings:
            row[1] = settings[row[0]]
    return sheets, payload(sheets, name)


def test_manifest_and_metadata(server: Server) -> None:
    status, manifest = server.request("GET", "/manifest.xml")
    assert status == 200 and 'id="Functions.Namespace" DefaultValue="DUBAN"' in manifest
    assert f"{server.url}/xlwings/custom-functions-meta.json" in manifest
    status, text = server.request("GET", "/xlwings/custom-functions-meta")
    names = {f["id"]: f["name"] for f in json.loads(text)["functions"]}
    assert names == {"DUBAN_DEADLINE": "DEADLINE", "DUBAN_DAYS_LEFT": "DAYS_LEFT", "DUBAN_RATE": "RATE",
                     "DUBAN_LIGHT": "LIGHT", "DUBAN_UNIT": "UNIT"}  # Excel: =DUBAN.DEADLINE(...)
    status, text = server.request("GET", "/xlwings/custom-scripts-meta")
    meta = {m["function_name"]: m for m in json.loads(text)}
    assert set(meta) == set(scripts.BUTTONS)
    for name, (caption, shape, cell) in scripts.BUTTONS.items():
        assert meta[name]["button"] == f"[{shape}]操作台!{cell}" and meta[name]["name"] == caption
    assert meta["duban_collect"]["required_roles"] == [scripts.WRITER_ROLE]


@pytest.mark.parametrize("name, args, expected", [
    ("DUBAN_DEADLINE", ["6月底前", 2026], {"type": "FormattedNumber", "basicValue": 46203.0, "numberFormat": "yyyy/m/d"}),
    ("DUBAN_DEADLINE", ["按自治区安排统筹推进", 2026], ""),
    ("DUBAN_DAYS_LEFT", ["9月30日前", 2026, "2026-09-20"], 10),
    ("DUBAN_RATE", ["6.5%左右", "7.8%", None], 1.2),
    ("DUBAN_RATE", ["与经济增长同步", "4.4%", "5.5%左右"], 0.8),
    ("DUBAN_LIGHT", ["3月底", "序时推进", 80, "2026-06-30"], "红"),
    ("DUBAN_UNIT", ["呼和浩特 职业技术大学"], "呼和浩特职业技术大学"),
])
def test_functions_over_http(server: Server, name: str, args: list, expected: object) -> None:
    status, value = server.call_function(name, *args, token=READER)
    assert status == 200
    assert value == (pytest.approx(expected) if isinstance(expected, float) else expected)


@pytest.mark.parametrize("name, args", [
    ("DUBAN_DEADLINE", ["13月底", 2026]),
    ("DUBAN_DEADLINE", ["6月底", "明年"]),
    ("DUBAN_DAYS_LEFT", ["尽快", 2026, None]),
    ("DUBAN_LIGHT", ["10月底", "序时推进", "很多", None]),
    ("DUBAN_LIGHT", ["10月底", "序时推进", 50, "不是日期"]),
    ("DUBAN_UNIT", [None]),
])
def test_bad_arguments_give_chinese_text_not_a_server_error(server: Server, name: str, args: list) -> None:
    status, value = server.call_function(name, *args, token=READER)
    assert status == 200 and (value == "" or str(value).startswith("错误："))


def test_range_where_a_value_belongs(server: Server) -> None:
    body = {"func_name": "DUBAN_DEADLINE", "args": [[["6月底", "7月底"], ["8月底", "9月底"]], [[2026]]],
            "version": "0.37.8", "client": "Office.js", "caller_address": "Sheet1!A1", "formula_name": "DEADLINE",
            "culture_info_name": "zh-CN", "date_format": "yyyy/m/d", "runtime": "1.4"}
    status, text = server.request("POST", "/xlwings/custom-functions-call", body, READER)
    assert status == 200 and json.loads(text)["result"][0][0].startswith("错误：")


def test_every_button_script_answers(server: Server, office: dict) -> None:
    """Every script of BUTTONS (including ones other issues add) runs over HTTP and returns actions."""
    for name in scripts.BUTTONS:
        sheets, body = book(office["master"])
        status, answer = server.call_script(name, body, WRITER)
        assert status == 200, (name, answer)
        assert isinstance(answer["actions"], list)


def test_check_unit_sheets_rates_report(server: Server, office: dict) -> None:
    sheets, body = book(office["master"])
    status, answer = server.call_script("duban_check_master", body, READER)
    alerts = apply(sheets, answer["actions"])
    assert "校验结果" in sheets and "校验完成" in alerts[0]
    sheets, body = book(office["master"])
    apply(sheets, server.call_script("duban_unit_sheets", body, READER)[1]["actions"])
    assert sheets["市发改委"][3][0] == "2026-001"
    sheets, body = book(office["master"])
    apply(sheets, server.call_script("duban_rates", body, READER)[1]["actions"])
    header = sheets[S.TASKS][0]
    lights = [r[header.index("灯")] for r in sheets[S.TASKS][1:]]
    assert set(lights) <= {"红", "黄", "绿"} and len(lights) == 189
    sheets, body = book(office["master"])
    apply(sheets, server.call_script("duban_report", body, READER)[1]["actions"])
    assert "通报-指标完成情况" in sheets


def test_export_and_collect_in_the_data_folder(server: Server, office: dict) -> None:
    before = tree(office["outside"])
    sheets, body = book(office["master"], name=str(office["outside"] / "总台账.xlsx"))  # a path on the server
    status, answer = server.call_script("duban_export_units", body, WRITER)
    alerts = apply(sheets, answer["actions"])
    out = office["inbox"].parent / "单位填报表_2026-06"
    assert len(list(out.glob("*.xlsx"))) == 45 and "数据文件夹" in alerts[0] and str(office["data"]) not in alerts[0]
    issued = [r for r in sheets[S.ISSUED][1:] if any(r)]
    assert len(issued) == 2 + 45
    sheets, body = book(office["master"], name=str(office["outside"] / "总台账.xlsx"))
    status, answer = server.call_script("duban_collect", body, WRITER)
    alerts = apply(sheets, answer["actions"])
    assert "已汇总 2 个文件" in alerts[0]
    history = [r for r in sheets[S.HISTORY][1:] if any(r)]
    assert {r[S.HISTORY_COLUMNS.index("单位")] for r in history} == {"市发改委", "市民政局"}
    assert tree(office["outside"]) == before  # nothing beside the path the client named


def test_word_documents_in_the_data_folder(server: Server, office: dict) -> None:
    """生成通报 and 生成督办单 under the server: files in the office's data folder, numbers into the book."""
    folder = office["inbox"].parent
    before = tree(office["outside"])
    sheets, body = book(office["master"], name=str(office["outside"] / "总台账.xlsx"))
    status, answer = server.call_script("duban_tongbao", body, WRITER)
    alerts = apply(sheets, answer["actions"])
    assert (folder / "督查通报_2026-06" / "督查通报_2026年6月.docx").is_file()
    assert "数据文件夹" in alerts[0] and str(office["data"]) not in alerts[0]
    sheets, body = book(office["master"], name=str(office["outside"] / "总台账.xlsx"))
    status, answer = server.call_script("duban_notices", body, WRITER)
    alerts = apply(sheets, answer["actions"])
    files = list((folder / "督办通知单_2026-06").glob("督办通知单_*.docx"))
    records = [r for r in sheets[S.NOTICES][1:] if any(r)]
    assert len(files) == len(records) > 1 and "请保存台账" in alerts[0]
    assert tree(office["outside"]) == before
    status, text = server.call_script("duban_notices", body, READER)
    assert status == 400 and scripts.WRITER_ROLE in text


def test_apply_changes_over_http(server: Server, office: dict) -> None:
    """应用调整 on the book a client sends: a task added and one extended in Excel are fixed and logged."""
    sheets, _ = book(office["master"])
    tasks = sheets[S.TASKS]
    header = tasks[0]
    row = [""] * len(header)
    for column, value in ((S.TEXT, "建成城市运行管理服务平台"), (S.LEAD, "市财政局"), (S.DEADLINE_TEXT, "9月底")):
        row[header.index(column)] = value
    tasks.append(row)
    tasks[10][header.index(S.DEADLINE_TEXT)] = "9月底"  # 2026-010, 6月底
    status, answer = server.call_script("duban_apply_changes", payload(sheets), READER)
    assert status == 200
    alerts = apply(sheets, answer["actions"])
    assert "已修正 4 处" in alerts[-1] and "记入“调整记录” 2 条" in alerts[-1]
    assert sheets[S.TASKS][-1][0] == "2026-190" and sheets[S.TASKS][10][header.index(S.DUE)].startswith("2026-09-30")
    assert [r[3] for r in sheets[S.CHANGES][1:]] == [S.KIND_EXTENDED, S.KIND_ADDED]


def test_write_scripts_need_the_writer_role(server: Server, office: dict) -> None:
    sheets, body = book(office["master"])
    status, text = server.call_script("duban_collect", body)
    assert status == 401 and "令牌" in text
    status, text = server.call_script("duban_collect", body, READER)
    assert status == 400 and scripts.WRITER_ROLE in text
    status, answer = server.call_script("duban_check_master", body, READER)
    assert status == 200


@pytest.mark.parametrize("master_id, message", [
    ("../外部 目录", "不能作为文件夹名"),
    ("..", "不能作为文件夹名"),
    ("/etc", "不能作为文件夹名"),
    ("NOSUCHOFFICE", "没有本台账"),
    ("link_out", "没有本台账"),
])
def test_office_folder_names_are_checked(server: Server, office: dict, master_id: str, message: str) -> None:
    link = office["data"] / "link_out"
    if not link.exists():
        link.symlink_to(office["outside"], target_is_directory=True)
    before, data_before = tree(office["outside"]), tree(office["data"])
    for name in ("duban_export_units", "duban_collect"):
        sheets, body = book(office["master"], **{S.S_MASTER_ID: master_id})
        status, answer = server.call_script(name, body, WRITER)
        assert status == 200 and [a["func"] for a in answer["actions"]] == ["alert"]
        assert message in answer["actions"][0]["args"][0]
    assert tree(office["outside"]) == before and tree(office["data"]) == data_before


def test_links_in_the_inbox_are_not_followed(server: Server, office: dict) -> None:
    other = office["data"] / "OTHEROFFICE"
    (other / "报送文件").mkdir(parents=True)
    (other / "报送文件" / "链接.xlsx").symlink_to(office["outside"] / "别处的报送.xlsx")
    (other / "报送文件" / "子目录").symlink_to(office["outside"], target_is_directory=True)
    sheets, body = book(office["master"], **{S.S_MASTER_ID: "OTHEROFFICE"})
    status, answer = server.call_script("duban_collect", body, WRITER)
    assert "已汇总 0 个文件，退回 0 个" in answer["actions"][-1]["args"][0]
    os.unlink(other / "报送文件" / "子目录")
    (other / "报送文件").rename(other / "x")
    (other / "报送文件").symlink_to(office["outside"], target_is_directory=True)
    status, answer = server.call_script("duban_collect", body, WRITER)
    assert "是链接" in answer["actions"][0]["args"][0]


@pytest.mark.parametrize("body, status, message", [
    (b"not json", 400, "不是 JSON"),
    (json.dumps({"sheets": "abc"}).encode(), 400, "缺少工作簿数据"),
    (json.dumps({"book": {"name": "x"}, "sheets": [{"name": "A" * 40, "values": [[1]]}]}).encode(), 400, "31"),
    (json.dumps({"book": {"name": "x"}, "sheets": [{"name": "任务分解", "values": "x"}]}).encode(), 400, "不是表格"),
    (json.dumps({"book": {"name": "x"}, "sheets": [{"name": "任务分解", "values": [[{"a": 1}]]}]}).encode(), 400,
     "无法识别"),
    (json.dumps({"book": {"name": "x"}, "sheets": [{"name": "设置", "values": [["x" * 40000]]}]}).encode(), 400,
     "无法识别"),
    (b"[" + b"1," * 700_000 + b"1]", 413, "请求过大"),
])
def test_crafted_script_payloads_get_a_clear_answer(server: Server, body: bytes, status: int, message: str) -> None:
    got, text = server.request("POST", "/xlwings/custom-scripts-call/duban_check_master", raw=body)
    assert got == status and message in text


def test_unknown_names_and_incomplete_books(server: Server, office: dict) -> None:
    status, text = server.request("POST", "/xlwings/custom-scripts-call/os.system", {"book": {}, "sheets": []})
    assert status == 404 and "没有名为" in text
    status, text = server.request("POST", "/xlwings/custom-functions-call", {"func_name": "eval", "args": []})
    assert status == 404 and "没有名为" in text
    status, text = server.request("POST", "/xlwings/custom-functions-call", {"func_name": "DUBAN_UNIT"})
    assert status == 400 and "缺少函数名或参数" in text
    _, body = book(office["master"])
    del body["names"], body["book"]["active_sheet_index"]
    status, text = server.request("POST", "/xlwings/custom-scripts-call/duban_check_master", body, READER)
    assert status in (200, 500) and ("服务器处理出错" in text or "actions" in text)
