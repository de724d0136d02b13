"""The field registry: every column tiering knows, with its English id, Chinese label, unit and meaning.

This is the one place that maps spreadsheet headers to field ids. Rule expressions, the register loader,
the Excel template and the panel generator all read it.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml


class Kind(StrEnum):
    """Whether a field describes the firm once (firm) or each fiscal year (year)."""

    FIRM = "firm"
    YEAR = "year"


class DType(StrEnum):
    """The value type of a field, which decides how a cell is parsed and validated."""

    TEXT = "text"
    DATE = "date"
    INT = "int"  # counts: headcount, patents
    MONEY = "money"  # amounts; stored internally in 万元
    RATIO = "ratio"  # a share given as a fraction (0.25) or percent text ("25%")
    BOOL = "bool"  # 是/否, 1/0, Y/N, TRUE/FALSE
    SCORE = "score"  # an expert sub-score entered by hand


@dataclass(frozen=True)
class Field:
    """One known column."""

    id: str
    label: str
    kind: Kind
    dtype: DType
    meaning: str
    unit: str = ""
    aliases: tuple[str, ...] = field(default=())
    required: bool = False
    min_value: float | None = None
    """Plausibility floor from fields.yaml (None: 0 for amounts and counts, see tiering.register.row)."""
    max_value: float | None = None
    """Plausibility ceiling from fields.yaml; a larger value is a typing error, refused."""
    form_aliases: tuple[tuple[str, str], ...] = field(default=())
    """(name, form) pairs from fields.yaml: the names the real forms use for this field, with the form."""


_F, _Y = Kind.FIRM, Kind.YEAR

FIELDS: tuple[Field, ...] = (
    # --- keys and firm-level facts -------------------------------------------------------------
    Field("uscc", "统一社会信用代码", _F, DType.TEXT, "18位统一社会信用代码（GB 32100-2015，含校验位），企业唯一标识",
          aliases=("信用代码", "社会信用代码", "firm_id"), required=True),
    Field("name", "企业名称", _F, DType.TEXT, "企业全称", aliases=("公司名称", "单位名称"), required=True),
    Field("year", "年度", _Y, DType.INT, "数据所属会计年度（如2024）", aliases=("会计年度", "数据年度", "fiscal_year"),
          required=True),
    Field("registration_date", "注册日期", _F, DType.DATE, "营业执照成立（注册）日期",
          aliases=("成立日期", "注册时间")),
    Field("province", "注册省份", _F, DType.TEXT, "注册地所在省级行政区，如 天津", aliases=("省份", "注册地")),
    Field("district", "所在区", _F, DType.TEXT, "注册地所在区县，如 东丽区", aliases=("所在区县", "区县")),
    Field("industry", "行业", _F, DType.TEXT, "所属行业或产业集群（按种子文件中的产业划分）",
          aliases=("所属行业", "产业")),
    Field("industry_code", "行业代码", _F, DType.TEXT,
          "《国民经济行业分类》（GB/T 4754-2017）代码（如 6510、I6510、C39），或门类、大类名称（须逐字相同，"
          "如 软件和信息技术服务业）；表见 rules/classifications/gbt4754-2017.yaml",
          aliases=("国民经济行业代码", "行业分类代码", "国民经济行业分类")),
    Field("ownership", "企业性质", _F, DType.TEXT, "民营 / 国有 / 外资 / 混合", aliases=("所有制",)),
    Field("resident_enterprise", "境内居民企业", _F, DType.BOOL,
          "在中国境内注册（或实际管理机构在境内）、实行查账征收并缴纳企业所得税的居民企业", aliases=("居民企业",)),
    Field("independent_legal_person", "独立法人", _F, DType.BOOL, "具有独立法人资格"),
    # --- yearly size and finance (money in 万元) ------------------------------------------------
    Field("employees", "职工总数", _Y, DType.INT, "在职、兼职、临时聘用人员（兼职/临时全年累计工作6个月以上）",
          unit="人", aliases=("职工人数", "从业人员")),
    Field("tech_staff", "科技人员数", _Y, DType.INT,
          "直接从事研发和相关技术创新活动及为其提供直接服务的人员", unit="人", aliases=("科技人员",)),
    Field("rd_staff", "研发人员数", _Y, DType.INT, "直接从事研发活动的人员", unit="人", aliases=("研发人员",)),
    Field("revenue", "销售收入", _Y, DType.MONEY, "销售收入总额 = 主营业务收入 + 其他业务收入", unit="万元",
          aliases=("销售收入总额", "年销售收入")),
    Field("operating_revenue", "营业收入", _Y, DType.MONEY, "利润表营业收入", unit="万元"),
    Field("main_revenue", "主营业务收入", _Y, DType.MONEY, "主营业务收入", unit="万元"),
    Field("total_income", "总收入", _Y, DType.MONEY, "收入总额减不征税收入（高企口径）", unit="万元"),
    Field("hightech_revenue", "高新技术产品收入", _Y, DType.MONEY, "高新技术产品（服务）收入，含技术性收入",
          unit="万元", aliases=("高新技术产品(服务)收入", "高新收入")),
    Field("total_assets", "资产总额", _Y, DType.MONEY, "年末资产总额", unit="万元", aliases=("总资产",)),
    Field("total_liabilities", "负债总额", _Y, DType.MONEY, "年末负债总额", unit="万元", aliases=("总负债",)),
    Field("rd_expense", "研发费用总额", _Y, DType.MONEY, "按财税〔2015〕119号口径归集的研发费用", unit="万元",
          aliases=("研发费用", "研发投入")),
    Field("rd_expense_domestic", "境内研发费用", _Y, DType.MONEY, "在中国境内发生的研发费用", unit="万元"),
    Field("cost_expense", "成本费用支出总额", _Y, DType.MONEY,
          "主营业务成本+其他业务成本+销售费用+管理费用+财务费用", unit="万元", aliases=("成本费用总额",)),
    Field("net_profit", "净利润", _Y, DType.MONEY, "净利润", unit="万元"),
    # --- intellectual property and results ----------------------------------------------------
    Field("ip_class1", "Ⅰ类知识产权数量", _Y, DType.INT,
          "有效期内的发明专利、植物新品种、国家新药、集成电路布图设计等", unit="项",
          aliases=("I类知识产权数量", "一类知识产权数量", "Ⅰ类知识产权", "I类知识产权")),
    Field("ip_class2", "Ⅱ类知识产权数量", _Y, DType.INT, "有效期内的实用新型、外观设计、软件著作权", unit="项",
          aliases=("II类知识产权数量", "二类知识产权数量", "Ⅱ类知识产权", "II类知识产权")),
    Field("tech_conversions", "科技成果转化数", _Y, DType.INT, "当年科技成果转化项数", unit="项"),
    # --- credit, safety and compliance (per year) ---------------------------------------------
    Field("abnormal_operation", "列入经营异常名录", _Y, DType.BOOL, "当年是否被列入经营异常名录",
          aliases=("经营异常",)),
    Field("serious_dishonesty", "严重违法失信", _Y, DType.BOOL, "当年是否被列入严重违法失信企业名单",
          aliases=("严重违法失信名单",)),
    Field("research_misconduct", "科研严重失信", _Y, DType.BOOL, "当年是否有科研严重失信行为"),
    Field("major_accident", "重大事故或严重环境违法", _Y, DType.BOOL,
          "当年是否发生重大安全、重大质量事故或严重环境违法、严重弄虚作假行为", aliases=("重大事故",)),
    Field("restricted_industry", "限制淘汰类或不适用加计扣除行业", _Y, DType.BOOL,
          "所在行业属于《产业结构调整指导目录》限制类、淘汰类，或财税〔2015〕119号不适用加计扣除的行业"),
    # --- certificates, awards, platforms -----------------------------------------------------
    Field("hitech_cert", "高新技术企业证书有效", _Y, DType.BOOL, "当年是否持有有效期内的国家高新技术企业证书",
          aliases=("高企证书",)),
    Field("hitech_cert_expiry", "高企证书到期日", _F, DType.DATE, "高新技术企业证书有效期截止日"),
    Field("national_award_top3", "近五年国家级科技奖励前三", _Y, DType.BOOL,
          "近五年内获得过国家级科技奖励并在获奖单位中排名前三"),
    Field("provincial_award", "省部级以上科技奖励", _Y, DType.BOOL, "获得过国家级或省部级科技奖励"),
    Field("rd_institution", "省部级以上研发机构", _Y, DType.BOOL, "拥有经认定的省部级以上研发机构"),
    Field("standard_lead", "近五年主导制定标准", _Y, DType.BOOL,
          "近五年内主导（前五起草单位）制定过国际、国家或行业标准"),
    Field("standard_participation", "参与制定标准", _Y, DType.BOOL, "参加制定过国际/国家/行业/地方/团体/企业标准"),
    Field("software_cert", "软件企业及软件产品证书", _Y, DType.BOOL, "同时持有有效期内的软件企业证书和软件产品证书"),
    Field("competition_award", "创新创业大赛获奖", _Y, DType.BOOL,
          "国家级创新创业大赛决赛优秀奖及以上或省级决赛三等奖及以上"),
    Field("sci_project", "省部级以上科技计划项目", _Y, DType.BOOL, "获得过国家级或省部级科技计划项目（课题）立项"),
    Field("vc_investment", "单笔创业投资额", _Y, DType.MONEY, "当年获得的单笔单家创业投资最大金额", unit="万元"),
    Field("equity_financing", "新增股权融资", _Y, DType.MONEY, "当年新增股权融资（合格机构实缴）", unit="万元"),
    # --- added for the tier ladder (高企, 雏鹰, 专精特新 …) -------------------------------------
    Field("tj_hitech_cert", "天津市高新技术企业证书有效", _Y, DType.BOOL,
          "当年是否持有有效期内的天津市高新技术企业证书（雏鹰（四）4）", aliases=("天津市高企证书",)),
    Field("hitech_field", "属于国家重点支持的高新技术领域", _Y, DType.BOOL,
          "对主要产品（服务）发挥核心支持作用的技术属于《国家重点支持的高新技术领域》（高企第十一条（三））",
          aliases=("高新技术领域",)),
    Field("recent_award", "近三年国家级或省级科技奖励", _Y, DType.BOOL,
          "近三年内获得过国家级或省级科技奖励（创新型中小企业直通条件）"),
    Field("award_top_rank", "近三年省级奖前三或国家级奖前五", _Y, DType.BOOL,
          "近三年获省级科技奖励并排名前三，或获国家级科技奖励并排名前五（专精特新中小企业直通条件）"),
    Field("innovation_demo", "技术创新示范或知识产权优势企业", _Y, DType.BOOL,
          "有效期内的国家级技术创新示范企业、知识产权优势企业或知识产权示范企业称号"),
    Field("chuangke_top500", "创客中国全国500强", _Y, DType.BOOL,
          "近三年进入“创客中国”中小企业创新创业大赛全国500强企业组"),
    Field("chuangke_top50", "创客中国全国50强", _Y, DType.BOOL,
          "近三年进入“创客中国”中小企业创新创业大赛全国50强企业组"),
    Field("has_rd_org", "设立研发机构", _Y, DType.BOOL, "自建或与高校、科研院所联合建立研发机构（不论级别）"),
    Field("ip_class1_high_value", "Ⅰ类高价值知识产权数量", _Y, DType.INT,
          "与主导产品相关的Ⅰ类高价值知识产权（如海外同族专利、维持年限超过10年的发明专利等）", unit="项"),
    Field("ip_class1_own", "自主研发Ⅰ类知识产权数量", _Y, DType.INT,
          "与主导产品相关、自主研发取得的Ⅰ类知识产权", unit="项"),
    Field("ip_class1_applied", "应用的Ⅰ类知识产权数量", _Y, DType.INT,
          "与主导产品相关、已实际应用并已产生经济效益的Ⅰ类知识产权", unit="项"),
    Field("niche_market_years", "从事细分市场年限", _Y, DType.INT,
          "截至该年末从事特定细分市场的年数", unit="年", aliases=("细分市场年限",)),
    Field("market_share", "细分市场占有率", _Y, DType.RATIO, "主导产品在全国细分市场的占有率", unit="%",
          aliases=("市场占有率",)),
    Field("strategic_emerging", "主导产品属于战略性新兴产业", _Y, DType.BOOL,
          "主导产品所属领域属于《战略性新兴产业分类》"),
    Field("info_system", "核心业务信息系统支撑", _Y, DType.BOOL, "至少1项核心业务采用信息系统支撑"),
    Field("quality_cert", "管理体系或产品认证", _Y, DType.BOOL,
          "取得相关管理体系认证，或产品通过发达国家和地区产品认证（国际标准协会行业认证）"),
    Field("own_brand", "拥有自主品牌", _Y, DType.BOOL, "主导产品拥有直接面向市场的自主品牌"),
    Field("key_chain", "产业链关键环节", _Y, DType.BOOL,
          "位于产业链关键环节，围绕重点产业链实现关键基础技术和产品的产业化应用（补短板、锻长板、填空白）"),
    Field("key_sector", "属于重点领域", _Y, DType.BOOL,
          "主导产品属于工业“六基”、制造强国战略十大重点产业领域或网络强国建设重点领域"),
    Field("zjtx_score", "专精特新中小企业评价得分", _Y, DType.SCORE,
          "省级主管部门按“专精特新中小企业”4类13项指标评出的得分（0–100分）；录入时作为人工覆盖，取代按评分表"
          "计算的得分", unit="分"),
    # --- 专精特新 under 工信部企业〔2026〕2号 ---------------------------------------------------------------
    Field("platform_score", "平台评价得分", _Y, DType.SCORE,
          "优质中小企业梯度培育平台按《专精特新中小企业发展评价》（工信厅企业〔2024〕75号）算出的该年度得分"
          "（0–100分）；由平台给出，照录", unit="分", aliases=("专精特新发展评价得分",)),
    Field("award_top3_3y", "近三年省部级以上科技奖励前三", _Y, DType.BOOL,
          "近三年获得省部级以上科技奖励并在获奖单位中排名前三（2号 专精特新知识产权条件的豁免）"),
    Field("national_award_top3_3y", "近三年国家级科技奖励前三", _Y, DType.BOOL,
          "近三年获得国家级科技奖励并在获奖单位中排名前三（2号 “小巨人”知识产权条件的豁免）"),
    Field("domestic_top3", "国内细分市场前三", _Y, DType.BOOL, "主导产品国内细分市场占有率排名前三"),
    # --- 高企 创新能力评价: expert sub-scores entered by hand (blank = not yet scored) ---------------
    Field("hitech_score_advance", "高企评分-技术的先进程度", _Y, DType.SCORE,
          "专家评分，0–8分（国科发火〔2016〕195号 创新能力评价 知识产权（1））", unit="分"),
    Field("hitech_score_core_support", "高企评分-核心支持作用", _Y, DType.SCORE,
          "专家评分，0–8分：对主要产品（服务）在技术上发挥核心支持作用（知识产权（2））", unit="分"),
    Field("hitech_score_ip_count", "高企评分-知识产权数量", _Y, DType.SCORE,
          "专家评分，0–8分；须落在按知识产权数量算出的档内，否则不采用（知识产权（3））", unit="分"),
    Field("hitech_score_ip_acquisition", "高企评分-知识产权获得方式", _Y, DType.SCORE,
          "专家评分，0–6分：有自主研发1–6分，仅受让、受赠、并购1–3分（知识产权（4））", unit="分"),
    Field("hitech_score_standard_bonus", "高企评分-参与标准制定加分", _Y, DType.SCORE,
          "专家评分，0–2分：参与编制国家标准、行业标准、检测方法、技术规范（知识产权（5））", unit="分"),
    Field("hitech_score_conversion", "高企评分-科技成果转化能力", _Y, DType.SCORE,
          "专家评分，0–30分；须落在按近三年年均转化项数算出的档内，否则不采用", unit="分"),
    Field("hitech_score_rd_management", "高企评分-研究开发组织管理水平", _Y, DType.SCORE,
          "专家评分，0–20分：研发组织管理制度、研发机构与产学研合作、成果转化激励、人才培养（四项合计）",
          unit="分"),
    Field("hitech_score_na_growth", "高企评分-净资产增长率", _Y, DType.SCORE,
          "专家评分，0–10分；须落在按净资产增长率算出的档内，否则不采用", unit="分"),
    Field("hitech_score_revenue_growth", "高企评分-销售收入增长率", _Y, DType.SCORE,
          "专家评分，0–10分；须落在按销售收入增长率算出的档内，否则不采用", unit="分"),
    # --- 专精特新 2022 评价指标 (63号 附件2): the parts no register column measures, scored by hand (blank = the
    # part's whole range) ------------------------------------------------------------------------------------
    Field("zjtx_score_sector", "专精特新评分-主导产品所属领域", _Y, DType.SCORE,
          "评分，0–5分：补短板、锻长板、填空白取得实际成效5分；属于工业“六基”、中华老字号或产业链龙头企业配套"
          "3分；其他0分", unit="分"),
    Field("zjtx_score_digital", "专精特新评分-数字化水平", _Y, DType.SCORE,
          "评分，0–5分：中小企业数字化水平评测三级以上5分，二级3分，一级0分", unit="分"),
    Field("zjtx_score_local", "专精特新评分-地方特色指标", _Y, DType.SCORE,
          "省级主管部门自定的特色化指标（1–3项）合计得分，0–15分", unit="分"),
)

REGISTRY_DATA = Path(__file__).with_name("fields.yaml")
"""Aliases from the real forms, ambiguous names and plausibility bounds: data, kept beside this registry."""


def _with_registry_data(fields: tuple[Field, ...], data: dict[str, Any]) -> tuple[Field, ...]:
    extra = data.get("fields") or {}
    unknown = sorted(set(extra) - {f.id for f in fields})
    if unknown:
        raise ValueError(f"{REGISTRY_DATA.name}: unknown field ids {unknown}")
    merged = []
    for f in fields:
        entry = extra.get(f.id) or {}
        forms = tuple((str(a["name"]), str(a.get("form", ""))) for a in entry.get("aliases") or ())
        bounds = entry.get("bounds") or {}
        merged.append(replace(
            f, aliases=f.aliases + tuple(name for name, _ in forms), form_aliases=forms,
            min_value=bounds.get("min"), max_value=bounds.get("max"),
        ))
    return tuple(merged)


# libyaml's safe loader when the wheel has it: the same data, read at every start of the command line, 5× faster
_REGISTRY_DATA: dict[str, Any] = yaml.load(REGISTRY_DATA.read_text(encoding="utf-8"),
                                           Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
FIELDS = _with_registry_data(FIELDS, _REGISTRY_DATA)
BY_ID: dict[str, Field] = {f.id: f for f in FIELDS}
AMBIGUOUS: dict[str, tuple[Field, ...]] = {
    str(entry["name"]): tuple(BY_ID[i] for i in entry["fields"]) for entry in _REGISTRY_DATA.get("ambiguous") or ()
}
"""Names that could mean several fields; a header with one is refused with the candidates."""

_UNIT_RE = re.compile(r"^\s*(?P<name>.+?)\s*[（(\[【]\s*(?P<unit>[^）)\]】]+?)\s*[）)\]】]\s*$")

MONEY_UNITS: dict[str, float] = {"万元": 1.0, "wan": 1.0, "元": 1e-4, "yuan": 1e-4}
"""Factor that converts an amount in the given unit into 万元, the internal unit."""


def _normalise(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


_LOOKUP: dict[str, list[Field]] = {}
for _f in FIELDS:
    for _name in (_f.id, _f.label, *_f.aliases):
        _hits = _LOOKUP.setdefault(_normalise(_name), [])
        if _f not in _hits:
            _hits.append(_f)
for _name, _candidates in AMBIGUOUS.items():
    _LOOKUP.setdefault(_normalise(_name), [])
    _LOOKUP[_normalise(_name)].extend(f for f in _candidates if f not in _LOOKUP[_normalise(_name)])


def split_header(header: str) -> tuple[str, str | None]:
    """Split ``销售收入(万元)`` into ``("销售收入", "万元")``; a header without a unit gives ``(header, None)``."""
    match = _UNIT_RE.match(str(header))
    if match:
        return match.group("name"), match.group("unit").strip()
    return str(header).strip(), None


def _fold(text: str) -> str:
    """Full-width letters, digits and brackets as half-width (ＩＩ类 -> II类, （ -> (), so a header typed either
    way names the same field."""
    return unicodedata.normalize("NFKC", text)


def resolve_all(name: str) -> list[Field]:
    """Every field a header or id could name (unit suffix removed): one, none, or several for an ambiguous name."""
    base, _ = split_header(name)
    return _LOOKUP.get(_normalise(base)) or _LOOKUP.get(_normalise(_fold(base))) or []


def resolve(name: str) -> Field | None:
    """The one field a header or id names (unit suffix removed); None when unknown or ambiguous."""
    hits = resolve_all(name)
    return hits[0] if len(hits) == 1 else None


def suggest(name: str) -> str | None:
    """The closest known field id or label to an unknown name, for 'did you mean' messages."""
    base, _ = split_header(name)
    candidates = list(_LOOKUP)
    match = difflib.get_close_matches(_normalise(base), candidates, n=1, cutoff=0.5)
    if not match:
        return None
    return "或".join(f"{hit.id}（{hit.label}）" for hit in _LOOKUP[match[0]])
