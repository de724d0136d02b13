"""The bad-input corpus: registers shaped the way analysts' files go wrong, each with the exit code and the text
``tiering classify`` must answer with.

    python tests/badinputs/make_corpus.py OUT_DIR     # writes the files and OUT_DIR/cases.json

Every file starts from two firms of the bundled sample (all 72 columns, 2021–2024), then changes one thing.
tests/test_badinputs.py builds the corpus in a temporary folder and runs every case.
"""

from __future__ import annotations

import codecs
import json
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import openpyxl
from openpyxl.worksheet.worksheet import Worksheet

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "datasets" / "sample_register.xlsx"
FIRM_ROWS = 8
"""Data rows taken from the sample: two firms × 2021–2024."""


@dataclass
class Case:
    """One bad input: the file, extra command-line arguments, the exit code and texts the output must hold."""

    name: str
    file: str
    exit_code: int
    texts: list[str]
    args: list[str] = field(default_factory=list)


def base() -> tuple[list[str], list[list[object]]]:
    """The sample's header and its first two firms' rows."""
    sheet = openpyxl.load_workbook(SAMPLE, read_only=True).worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(min_row=1, max_row=FIRM_ROWS + 1, values_only=True)]
    return [str(h) for h in rows[0]], rows[1:]


HEADER, ROWS = base()


def col(header: str) -> int:
    return HEADER.index(header)


def changed(header: str, value: object, row: int = 3) -> tuple[list[str], list[list[object]]]:
    """The base with one cell replaced (``row`` = 0-based data row; 3 = firm 1, fiscal 2024)."""
    rows = [list(r) for r in ROWS]
    rows[row][col(header)] = value
    return list(HEADER), rows


def renamed(old: str, new: str) -> tuple[list[str], list[list[object]]]:
    header = [new if h == old else h for h in HEADER]
    return header, [list(r) for r in ROWS]


def write_xlsx(path: Path, sheets: list[tuple[str, list[list[object]]]], hidden: tuple[str, ...] = (),
               after: Callable[[openpyxl.Workbook], None] | None = None) -> None:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets:
        sheet: Worksheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
        if name in hidden:
            sheet.sheet_state = "hidden"
    if after is not None:
        after(book)
    book.save(path)


def table(header: list[str], rows: list[list[object]]) -> list[list[object]]:
    return [list(header), *rows]


def csv_text(rows: list[list[object]], delimiter: str = ",") -> str:
    def cell(v: object) -> str:
        text = "" if v is None else str(v)
        return f'"{text}"' if any(c in text for c in (delimiter, '"', "\n")) else text
    return "\n".join(delimiter.join(cell(v) for v in row) for row in rows) + "\n"


def build(out: Path) -> list[Case]:
    """Write every corpus file into ``out`` and return the cases."""
    out.mkdir(parents=True, exist_ok=True)
    cases: list[Case] = []

    def xlsx(name: str, exit_code: int, texts: list[str], sheets: list[tuple[str, list[list[object]]]],
             args: tuple[str, ...] = (), hidden: tuple[str, ...] = (),
             after: Callable[[openpyxl.Workbook], None] | None = None) -> None:
        write_xlsx(out / f"{name}.xlsx", sheets, hidden, after)
        cases.append(Case(name, f"{name}.xlsx", exit_code, texts, list(args)))

    def one(name: str, exit_code: int, texts: list[str], grid: tuple[list[str], list[list[object]]],
            args: tuple[str, ...] = ()) -> None:
        xlsx(name, exit_code, texts, [("企业名录", table(*grid))], args)

    def csv(name: str, exit_code: int, texts: list[str], data: bytes, args: tuple[str, ...] = ()) -> None:
        (out / f"{name}.csv").write_bytes(data)
        cases.append(Case(name, f"{name}.csv", exit_code, texts, list(args)))

    good = (list(HEADER), [list(r) for r in ROWS])
    width = len(HEADER)
    # --- header found, not assumed ----------------------------------------------------------------------
    one("header_plain", 0, ["读取 8 行 = 接受 8 行 + 拒收 0 行"], good)
    xlsx("header_title_row", 0, ["第 1 行是标题“2024年度企业名录”"],
         [("企业名录", [["2024年度企业名录"], *table(*good)])])
    xlsx("header_two_title_rows", 0, ["第 2 行是标题“填报单位：东丽区科技局”"],
         [("企业名录", [["2024年度企业名录"], ["填报单位：东丽区科技局"], *table(*good)])])
    group = ["基本信息"] * 10 + ["经营情况"] * (width - 10)
    xlsx("header_group_row", 0, ["第 1 行是分组表头，第 2 行是字段表头"], [("企业名录", [group, *table(*good)])])

    def merge_key_cells(book: openpyxl.Workbook) -> None:
        sheet = book.worksheets[0]
        sheet.merge_cells("A1:A2")
        sheet.merge_cells("K1:Z1")

    vertical = [list(HEADER)]
    vertical[0][1:] = group[1:]
    second = [None, *HEADER[1:]]
    xlsx("header_merged_cells", 0, ["合并单元格", "读取 8 行"],
         [("企业名录", [vertical[0], second, *good[1]])], after=merge_key_cells)
    xlsx("notes_under_data", 0, ["表下注释（“注：金额单位为万元”）", "读取 8 行"],
         [("企业名录", [*table(*good), [None], ["注：金额单位为万元"], ["填表人：张三", None, "审核：李四"]])])
    total = [None] * width
    total[0], total[col("职工总数(人)")] = "合计", 880
    xlsx("total_row", 0, ["合计行，已跳过", "读取 8 行"], [("企业名录", [*table(*good), total])])
    xlsx("no_header_found", 3, ["没有找到表头", "查看过的行", "第 1 行：91120116MA05000011"],
         [("企业名录", [list(r) for r in ROWS])])
    xlsx("header_too_far_down", 3, ["前 20 行中没有找到表头", "--header-row"],
         [("企业名录", [[f"说明第{i}行"] for i in range(1, 25)] + table(*good))])
    xlsx("header_row_forced", 0, ["读取 8 行"],
         [("企业名录", [[f"说明第{i}行"] for i in range(1, 25)] + table(*good))], args=("--header-row", "25"))
    xlsx("header_row_forced_wrong", 3, ["第 3 行", "没有找到表头"],
         [("企业名录", [["名录"], *table(*good)])], args=("--header-row", "3"))
    one("alias_ambiguous", 3, ["可能是 总收入（total_income） 或 销售收入（revenue）"],
        renamed("总收入(万元)", "收入总额(万元)"))
    one("alias_employees_form", 0, ["读取 8 行 = 接受 8 行"], renamed("职工总数(人)", "从业人员数"))
    one("alias_employees_stats", 0, ["读取 8 行 = 接受 8 行"], renamed("职工总数(人)", "年末从业人员"))
    one("alias_rd_expense", 0, ["读取 8 行 = 接受 8 行"], renamed("研发费用总额(万元)", "研究开发费用(万元)"))
    one("alias_fullwidth_unit", 0, ["读取 8 行 = 接受 8 行"], renamed("营业收入(万元)", "营业收入（万元）"))
    one("column_unknown_needed", 5, ["科技型中小企业：", "家待定，缺少列 职工总数（表中未使用的列：从业人数?）"],
        renamed("职工总数(人)", "从业人数"))
    one("column_required_missing", 3, ["缺少必填列：年度（year）"], renamed("年度", "备注"))
    one("column_duplicate", 3, ["都对应字段 revenue"], renamed("主营业务收入(万元)", "销售收入总额(万元)"))
    one("money_without_unit", 3, ["金额列没有单位", "--unit"], renamed("资产总额(万元)", "资产总额"))
    # --- sheets ------------------------------------------------------------------------------------------
    xlsx("data_on_second_sheet", 0, ["数据在工作表“名录”上"],
         [("填表说明", [["请按模板填写"], ["金额单位万元"]]), ("名录", table(*good))])
    by_year = {2023: [r for r in good[1] if r[2] == 2023], 2024: [r for r in good[1] if r[2] == 2024]}
    no_year = [h for h in HEADER if h != "年度"]
    strip = col("年度")
    xlsx("year_sheets_stacked", 0, ["按年度工作表合并读入：2023年、2024年", "年度取自工作表名"],
         [(f"{y}年", [no_year, *[r[:strip] + r[strip + 1:] for r in rows]]) for y, rows in by_year.items()])
    xlsx("two_sheets_without_years", 3, ["都有名录表头：“名录A”、“名录B”", "--sheet"],
         [("名录A", table(*good)), ("名录B", table(*good))])
    stale = [list(r) for r in ROWS]
    stale[0][col("职工总数(人)")] = "旧数据"
    xlsx("hidden_first_sheet", 0, ["隐藏的工作表“旧名录”未读取", "拒收 0 行"],
         [("旧名录", table(HEADER, stale)), ("名录", table(*good))], hidden=("旧名录",))
    xlsx("hidden_sheet_named", 1, ["旧名录", "应为数字"],
         [("旧名录", table(HEADER, stale)), ("名录", table(*good))], hidden=("旧名录",), args=("--sheet", "旧名录"))
    xlsx("data_only_on_hidden_sheet", 3, ["没有找到表头", "隐藏的工作表“名录”未读取（要读它请加 --sheet 名录）"],
         [("说明", [["请见名录"]]), ("名录", table(*good))], hidden=("名录",))
    one("sheet_not_found", 3, ["没有名为“2024”的工作表；现有工作表：企业名录"], good, args=("--sheet", "2024"))
    xlsx("header_only", 3, ["no usable rows"], [("企业名录", [list(HEADER)])])
    # --- cells --------------------------------------------------------------------------------------------
    one("excel_error_div0", 1, ['值 "#DIV/0!"', "Excel 错误值 #DIV/0!"], changed("研发费用总额(万元)", "#DIV/0!"))
    one("excel_error_na", 1, ['值 "#N/A"', "Excel 错误值 #N/A"], changed("职工总数(人)", "#N/A"))
    one("excel_error_ref_in_name", 1, ["Excel 错误值 #REF!"], changed("企业名称", "#REF!", row=0))
    one("formula_without_value", 1, ["公式没有保存计算结果", "保存一次"],
        changed("研发费用总额(万元)", "=N5*0.05"))
    one("fullwidth_digits", 0, ["含全角数字或标点，已按半角读取", "接受 8 行"], changed("职工总数(人)", "１２０"))
    one("unit_in_cell_wan", 1, ["数字后面带了单位“万”"], changed("销售收入(万元)", "6000万"))
    one("unit_in_cell_yuan", 1, ["数字后面带了单位“元”"], changed("资产总额(万元)", "3000元"))
    one("unit_in_cell_people", 1, ["数字后面带了单位“人”"], changed("职工总数(人)", "120人"))
    one("thousands_separator", 0, ["接受 8 行"], changed("销售收入(万元)", "6,000.00"))
    one("zero_width_in_name", 0, ["不可见字符", "接受 8 行"], changed("企业名称", "津东精密\u200b机械有限公司", row=0))
    one("zero_width_in_code", 0, ["不可见字符", "接受 8 行"], changed("统一社会信用代码", "\ufeff91120116MA05000011"))
    one("date_chinese", 0, ["接受 8 行"], changed("注册日期", "2012年4月18日"))
    one("date_slashes", 0, ["接受 8 行"], changed("注册日期", "2012/4/18"))
    one("date_dots", 0, ["接受 8 行"], changed("注册日期", "2012.4.18"))
    one("date_excel_serial", 0, ["接受 8 行"], changed("注册日期", 41017))
    one("year_with_suffix", 0, ["接受 8 行"], changed("年度", "2024年"))
    one("absurd_headcount", 1, ["超过合理上限 10,000,000人"], changed("职工总数(人)", 50_000_000))
    one("absurd_revenue", 1, ["超过合理上限 1,000,000,000万元"], changed("销售收入(万元)", 5e9))
    one("absurd_loss", 1, ["低于合理下限 -100,000,000万元"], changed("净利润(万元)", -2e8))
    one("year_before_registration", 1, ['早于列 "注册日期" 的 2016-09-02'], changed("年度", 2015, row=4))
    one("negative_headcount", 1, ["不能为负数"], changed("职工总数(人)", -5))
    one("text_in_number", 1, ['值 "一百二十"', "应为数字"], changed("职工总数(人)", "一百二十"))
    one("bad_check_digit", 1, ["校验位错误"], changed("统一社会信用代码", "91120116MA05000010"))
    one("duplicate_firm_year", 1, ["同一企业同一年度出现多次"], changed("年度", 2023))
    one("part_above_whole", 1, ["科技人员数不能超过职工总数"], changed("科技人员数(人)", 500))
    one("impossible_date", 1, ["应为日期"], changed("注册日期", "2012-13-45"))
    one("bad_flag", 1, ["应为 是 或 否"], changed("高新技术企业证书有效", "也许"))
    one("code_as_number", 1, ["代码被存成了数字"], changed("统一社会信用代码", 911201160000000000))
    one("year_out_of_range", 1, ["应为 1980 到 2100 之间的整数年份"], changed("年度", 1979))
    one("year_blank", 1, ["必填，不能为空"], changed("年度", None))
    # --- CSV ----------------------------------------------------------------------------------------------
    rows = table(*good)
    csv("csv_comma_utf8", 0, ["接受 8 行"], csv_text(rows).encode("utf-8"))
    csv("csv_semicolon", 0, ["分隔符是分号", "接受 8 行"], csv_text(rows, ";").encode("utf-8"))
    csv("csv_tab", 0, ["分隔符是制表符", "接受 8 行"], csv_text(rows, "\t").encode("utf-8"))
    csv("csv_gb18030", 0, ["gb18030", "接受 8 行"], csv_text(rows).encode("gb18030"))
    csv("csv_utf16_bom", 0, ["utf-16", "接受 8 行"], codecs.BOM_UTF16_LE + csv_text(rows, "\t").encode("utf-16-le"))
    csv("csv_utf16_no_bom", 0, ["utf-16", "接受 8 行"], csv_text(rows).encode("utf-16-le"))
    bad_line = csv_text(rows).splitlines()
    bad_line[3] = bad_line[3].replace(",6000,", ",6,000,", 1) if ",6000," in bad_line[3] else bad_line[3] + ",多余"
    csv("csv_malformed_line", 1, ['行 4 列 "（整行）"', "多于表头", "读取 8 行 = 接受 7 行 + 拒收 1 行"],
        ("\n".join(bad_line) + "\n").encode("utf-8"))
    csv("csv_title_line", 0, ["第 1 行是标题", "接受 8 行"], ("2024年名录\n" + csv_text(rows)).encode("utf-8"))
    csv("csv_control_chars_in_name", 0, ["不可见字符", "接受 8 行"],
        csv_text(table(*changed("企业名称", "津东精密\x00机械\x01有限公司", row=1))).encode("utf-8"))
    # an .xlsx cannot hold more than 32,767 characters in a cell; a CSV can, and the results workbook could not
    csv("csv_text_over_excel_limit", 1, ["超过 Excel 单元格上限 32767 个字符"],
        csv_text(table(*changed("企业名称", "长" * 40_000, row=0))).encode("utf-8"))
    csv("csv_empty", 3, ["是空文件"], b"")
    csv("csv_excel_error", 1, ["Excel 错误值 #VALUE!"],
        csv_text(table(*changed("研发费用总额(万元)", "#VALUE!"))).encode("utf-8"))
    csv("csv_bad_encoding_option", 3, ["不认识的编码 klingon"], csv_text(rows).encode("utf-8"),
        args=("--encoding", "klingon"))
    csv("csv_wrong_encoding_option", 3, ["无法按 utf-8 解码"], csv_text(rows).encode("gb18030"),
        args=("--encoding", "utf-8"))
    csv("csv_fullwidth_semicolons", 0, ["全角分号", "接受 8 行"], csv_text(rows, "；").encode("utf-8"))
    # --- files and the command line ------------------------------------------------------------------------
    (out / "old_format.xls").write_bytes(b"\xd0\xcf\x11\xe0" + b"\x00" * 100)
    cases.append(Case("old_xls", "old_format.xls", 3, ["旧版 .xls", "另存为"]))
    (out / "notes.txt").write_text("企业名录", encoding="utf-8")
    cases.append(Case("wrong_suffix", "notes.txt", 3, ["格式无法读取"]))
    (out / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    cases.append(Case("corrupt_xlsx", "broken.xlsx", 3, ["不是可读的 .xlsx 文件"]))
    (out / "broken.parquet").write_bytes(b"PAR1 broken")
    cases.append(Case("corrupt_parquet", "broken.parquet", 3, ["不是可读的 parquet 文件"]))
    cases.append(Case("year_zero", "header_plain.xlsx", 2, ["1981<=x<=2100"], ["--year", "0"]))
    cases.append(Case("year_huge", "header_plain.xlsx", 2, ["1981<=x<=2100"], ["--year", "99999"]))
    cases.append(Case("out_under_a_file", "header_plain.xlsx", 3, ["无法写入"], ["--out", "{corpus}/notes.txt/out"]))
    earlier = out / "earlier_run"
    earlier.mkdir(exist_ok=True)
    (earlier / "provenance.json").write_text("{}", encoding="utf-8")
    cases.append(Case("out_holds_earlier_run", "header_plain.xlsx", 3, ["已有上一次运行的结果", "--overwrite"],
                      ["--out", "{corpus}/earlier_run"]))
    return cases


def main(argv: list[str]) -> None:
    out = Path(argv[1]) if len(argv) > 1 else Path("badinputs")
    cases = build(out)
    (out / "cases.json").write_text(json.dumps([asdict(c) for c in cases], ensure_ascii=False, indent=1),
                                    encoding="utf-8")
    print(f"{len(cases)} cases in {out}")


if __name__ == "__main__":
    main(sys.argv)
