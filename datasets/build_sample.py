"""Build the bundled sample register ``datasets/sample_register.xlsx`` (and its twin with bad rows).

Each firm below is hand-made to show one situation a bureau meets: a clear pass, a pass on a band edge, a
直通车 firm, a veto, a basic condition failed, data missing, and near misses. The firms of
``sample_ladder_firms.yaml`` follow: two that reach and two that narrowly miss each rung of the ladder, each with its
说明. Values are 2021–2024 fiscal years in the analysts' format (Chinese headers, amounts in 万元). Run from the
repository root:

    python datasets/build_sample.py
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from tiering.fields import BY_ID, FIELDS, DType
from tiering.register.template import template_header
from tiering.uscc import make

HERE = Path(__file__).resolve().parent
YEARS = (2021, 2022, 2023, 2024)

BASE: dict[str, Any] = dict(
    province="天津", district="东丽区", industry="高端装备制造", ownership="民营", resident_enterprise=True,
    independent_legal_person=True, employees=120, tech_staff=36, revenue=6000, operating_revenue=6100,
    main_revenue=5800, total_income=6100, hightech_revenue=4200, total_assets=5000, total_liabilities=2200,
    rd_expense=360, rd_expense_domestic=360, cost_expense=5200, net_profit=420, ip_class1=1, ip_class2=3,
    tech_conversions=2, abnormal_operation=False, serious_dishonesty=False, research_misconduct=False,
    major_accident=False, restricted_industry=False, hitech_cert=False, national_award_top3=False,
    provincial_award=False, rd_institution=False, standard_lead=False, standard_participation=False,
    software_cert=False, competition_award=False, sci_project=False, vc_investment=0, equity_financing=0,
)

# name, registration date, district, industry, yearly growth, 2024 overrides, note
FIRMS: list[tuple[str, str, str, str, float, dict[str, Any], str]] = [
    ("津东精密机械有限公司", "2012-04-18", "东丽区", "高端装备制造", 0.08, {}, "各项满分，综合评价通过"),
    ("宝坻新材科技有限公司", "2016-09-02", "宝坻区", "新能源新材料", 0.12,
     dict(tech_staff=30, employees=100, rd_expense=300, revenue=5000, ip_class1=0, ip_class2=4),
     "科技人员恰30%、研发恰6%、4项Ⅱ类：94分"),
    ("蓟州生物医药有限公司", "2018-03-15", "蓟州区", "生物医药", 0.25,
     dict(tech_staff=20, employees=100, rd_expense=200, revenue=5000, cost_expense=4000, ip_class1=0, ip_class2=3),
     "科技人员20%(12分)+研发4%(30分)+3项Ⅱ类(18分)=60分，恰好过线"),
    ("东丽智能装备有限公司", "2015-06-30", "东丽区", "高端装备制造", 0.05,
     dict(tech_staff=25, employees=100, rd_expense=200, revenue=5000, cost_expense=4000, ip_class1=0, ip_class2=2),
     "16+30+12=58分，差2分未过线"),
    ("宝坻储能电池有限公司", "2017-01-10", "宝坻区", "新能源新材料", 0.30,
     dict(tech_staff=9, employees=100, hitech_cert=True), "科技人员9%但持有效高企证书，经直通车符合"),
    ("蓟州环保工程有限公司", "2014-11-11", "蓟州区", "节能环保", 0.02,
     dict(tech_staff=9, employees=100), "科技人员9%，科技人员得分为0，一票否决"),
    ("东丽电子信息有限公司", "2011-02-21", "东丽区", "电子信息", 0.06,
     dict(employees=520, tech_staff=160), "职工520人，超过500人上限"),
    ("天津滨海大型装备有限公司", "2008-07-07", "东丽区", "高端装备制造", 0.10,
     dict(revenue=26000, operating_revenue=26500, main_revenue=25000, total_income=26500, hightech_revenue=20000,
          total_assets=30000, total_liabilities=15000, rd_expense=1000, rd_expense_domestic=1000, cost_expense=24000,
          employees=480, tech_staff=120, ip_class1=12, ip_class2=20),
     "销售收入2.6亿元，超过2亿元上限"),
    ("宝坻软件服务有限公司", "2019-05-20", "宝坻区", "人工智能", 0.40,
     dict(abnormal_operation=True), "2024年列入经营异常名录"),
    ("蓟州农业科技有限公司", "2016-08-08", "蓟州区", "现代农业", 0.04,
     dict(rd_expense=None), "研发费用未填报：得分只能确定为一个区间"),
    ("东丽检测技术有限公司", "2013-10-10", "东丽区", "科技服务", 0.03,
     dict(ip_class1=None, ip_class2=None), "知识产权数量未填报，但其他两项已够60分"),
    ("东丽商贸有限公司", "2010-01-05", "东丽区", "批发和零售业", 0.02, {}, "批发和零售业不适用加计扣除，基本条件不符"),
    ("宝坻研发中心有限公司", "2012-12-12", "宝坻区", "高端装备制造", 0.07,
     dict(tech_staff=8, employees=100, rd_institution=True), "拥有省部级研发机构，直通车符合"),
    ("蓟州新能源有限公司", "2020-03-03", "蓟州区", "新能源新材料", 0.35,
     dict(rd_expense=50, cost_expense=500, revenue=3000), "研发费用占成本费用10%，按成本口径择高得10分"),
    ("东丽光电科技有限公司", "2015-04-04", "东丽区", "电子信息", 0.15,
     dict(rd_expense=299, revenue=10000, cost_expense=9000), "研发占比2.99%，差一点到3%档"),
    ("宝坻重大事故企业有限公司", "2014-02-14", "宝坻区", "高端装备制造", 0.05,
     dict(major_accident=True), "2024年发生重大安全事故"),
]


def _row(uscc: str, name: str, reg: str, district: str, industry: str, year: int, values: dict[str, Any]) -> dict:
    row = {**BASE, **values, "uscc": uscc, "name": name, "registration_date": reg, "district": district,
           "industry": industry, "year": year}
    return row


def firm_rows() -> list[dict[str, Any]]:
    """Every firm-year of the sample, values by field id (amounts in 万元)."""
    rows: list[dict[str, Any]] = []
    for i, (name, reg, district, industry, growth, last, _note) in enumerate(FIRMS, start=1):
        uscc = make(f"91120116MA05{i:05d}")
        if "rd_expense" in last and "rd_expense_domestic" not in last:
            last = {**last, "rd_expense_domestic": last["rd_expense"]}
        for year in YEARS:
            back = YEARS[-1] - year
            scale = (1 + growth) ** -back
            values = dict(last) if back == 0 else {k: v for k, v in last.items()
                                                   if BY_ID[k].dtype != DType.BOOL or k in ("hitech_cert",)}
            for key in ("revenue", "operating_revenue", "main_revenue", "total_income", "hightech_revenue",
                        "total_assets", "net_profit", "rd_expense", "rd_expense_domestic", "cost_expense"):
                base = values.get(key, BASE[key])
                if base is not None:
                    values[key] = round(base * scale, 2)
            rows.append(_row(uscc, name, reg, district, industry, year, values))
    ladder = yaml.safe_load((HERE / "sample_ladder_firms.yaml").read_text(encoding="utf-8"))
    for spec in ladder["firms"]:
        for year, values in sorted(spec["years"].items()):
            rows.append({**spec["firm"], **values, "uscc": spec["uscc"], "name": spec["name"], "year": int(year)})
    return rows


def to_sheet(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The analysts' layout: Chinese headers with units, 是/否 for flags."""
    frame = pd.DataFrame(rows)
    out = pd.DataFrame()
    for f in FIELDS:
        if f.id not in frame:
            continue
        col = frame[f.id]
        if f.dtype == DType.BOOL:
            col = col.map(lambda v: None if v is None or pd.isna(v) else ("是" if v else "否"))
        out[template_header(f)] = col
    return out


def main() -> None:
    rows = firm_rows()
    sheet = to_sheet(rows)
    sheet.to_excel(HERE / "sample_register.xlsx", index=False, sheet_name="企业名录")
    bad = sheet.copy().astype(object)
    bad.loc[1, "职工总数(人)"] = "一百二十"
    bad.loc[5, "科技人员数(人)"] = 999
    bad.loc[9, "统一社会信用代码"] = "91120116MA0500010X"
    bad = pd.concat([bad, bad.iloc[[12]]], ignore_index=True)
    bad.to_excel(HERE / "sample_register_with_errors.xlsx", index=False, sheet_name="企业名录")
    print(f"wrote {len(rows)} rows for {sheet.iloc[:, 0].nunique()} firms")


if __name__ == "__main__":
    main()
