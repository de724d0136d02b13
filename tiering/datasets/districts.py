"""The districts the generator can populate, with the industry clusters their seed documents name.

Each district's industry mix follows the clusters its plan lists; the weights are assumptions except for 东丽区,
where 40.58 % of the firms are in 战略性新兴产业 (seed 003, see tiering.datasets.calibration).
"""

from __future__ import annotations

from dataclasses import dataclass

from tiering.datasets.refused import GenerateRefused


@dataclass(frozen=True)
class District:
    """A district (or city) firms can be registered in."""

    name: str
    province: str
    admin_code: str
    """6-digit 行政区划代码 that goes into characters 3–8 of a firm's 统一社会信用代码."""
    name_prefix: str
    """How firm names there begin (天津… / 包头…)."""
    industries: tuple[tuple[str, float], ...]
    """(industry cluster, share of firms); shares sum to 1."""
    source: str
    old_admin_code: str | None = None
    """Code of the former county, used for firms registered before ``renamed_in``."""
    renamed_in: int | None = None


STRATEGIC: frozenset[str] = frozenset({
    "航空航天", "半导体照明", "先进装备制造", "高端装备制造", "生物医药", "生物", "新能源新材料", "新材料",
    "环保新材料", "稀土新材料", "新能源", "节能环保", "新一代信息技术", "人工智能", "高技术服务业",
})
"""Industry clusters counted as 战略性新兴产业, as the seed documents group them."""

SOFTWARE: frozenset[str] = frozenset({"新一代信息技术", "人工智能", "高技术服务业", "影音艺媒"})
"""Clusters where software enterprise / software product certificates are common."""

RESTRICTED: frozenset[str] = frozenset({"批发和零售业"})
"""Clusters outside the R&D super-deduction (财税〔2015〕119号 lists 批发和零售业 among them)."""

DISTRICTS: tuple[District, ...] = (
    District(
        "东丽区", "天津", "120110", "天津",
        (
            ("先进装备制造", 0.11), ("新能源新材料", 0.08), ("生物医药", 0.05), ("新一代信息技术", 0.045),
            ("节能环保", 0.04), ("航空航天", 0.03), ("半导体照明", 0.03), ("高技术服务业", 0.0208),
            ("传统制造业", 0.38), ("现代服务业", 0.12), ("化工", 0.065), ("批发和零售业", 0.0292),
        ),
        "003 东丽区科技小巨人成长计划（2011-2015）：航空航天、半导体照明、先进装备制造、生物医药、新能源新材料、"
        "节能环保、新一代信息技术、高技术服务业",
    ),
    District(
        "宝坻区", "天津", "120115", "天津",
        (
            ("高端装备制造", 0.14), ("新能源新材料", 0.12), ("人工智能", 0.07), ("生物医药", 0.07),
            ("传统制造业", 0.38), ("现代服务业", 0.15), ("绿色食品加工", 0.04), ("批发和零售业", 0.03),
        ),
        "001 宝坻区科技企业群体规模壮大攻坚行动（2019）：新能源新材料、高端装备制造、人工智能、生物医药",
    ),
    District(
        "蓟州区", "天津", "120119", "天津",
        (
            ("高端装备制造", 0.10), ("环保新材料", 0.10), ("生物", 0.06), ("新材料", 0.06),
            ("影音艺媒", 0.05), ("养生保健", 0.06), ("现代服务业", 0.12), ("绿色食品加工", 0.10),
            ("传统制造业", 0.32), ("批发和零售业", 0.03),
        ),
        "000 蓟县科技小巨人发展三年计划（2013—2015）：高端装备制造、环保新材料；生物、新材料；影音艺媒；"
        "养生保健、现代服务业（蓟县 2016 年撤县设蓟州区）",
        old_admin_code="120225",
        renamed_in=2016,
    ),
    District(
        "包头市", "内蒙古", "150200", "包头",
        (
            ("稀土新材料", 0.20), ("先进装备制造", 0.15), ("新能源", 0.08), ("生物医药", 0.04),
            ("传统制造业", 0.30), ("冶金", 0.10), ("现代服务业", 0.10), ("批发和零售业", 0.03),
        ),
        "004 包头市培育科技小巨人发展实施意见（2015—2020）：稀土高新区、装备制造园区",
    ),
)

DEFAULT_MIX: tuple[tuple[str, float], ...] = (("东丽区", 0.4), ("宝坻区", 0.3), ("蓟州区", 0.3))
"""Districts (and shares) used when no district is asked for: the three Tianjin districts of the seeds."""

ALIASES: dict[str, str] = {"东丽": "东丽区", "宝坻": "宝坻区", "蓟县": "蓟州区", "蓟州": "蓟州区", "包头": "包头市"}

BY_NAME: dict[str, District] = {d.name: d for d in DISTRICTS}


def resolve_district(name: str) -> District:
    """The district called ``name`` (蓟县 is accepted for 蓟州区); ValueError naming the known ones otherwise."""
    key = ALIASES.get(name.strip(), name.strip())
    if key not in BY_NAME:
        known = "、".join(BY_NAME)
        raise GenerateRefused(f"不认识的区县 {name!r}：可选 {known}（也可写 蓟县、东丽、宝坻、包头）")
    return BY_NAME[key]


INDUSTRY_WORDS: dict[str, tuple[str, ...]] = {
    "航空航天": ("航空", "航天", "飞行器", "航电"),
    "半导体照明": ("光电", "照明", "半导体", "光源"),
    "先进装备制造": ("机械", "装备", "自动化", "精工"),
    "高端装备制造": ("装备", "机电", "自动化", "数控"),
    "生物医药": ("生物", "医药", "药业", "生物医药"),
    "生物": ("生物", "生物工程", "生化", "酶制剂"),
    "新能源新材料": ("新能源", "新材料", "复合材料", "储能"),
    "新材料": ("新材料", "复合材料", "高分子", "纳米"),
    "环保新材料": ("环保材料", "新材料", "环保", "粉体"),
    "稀土新材料": ("稀土", "磁材", "稀土材料", "新材料"),
    "新能源": ("新能源", "风电", "光伏", "储能"),
    "节能环保": ("环保", "节能", "环境", "水处理"),
    "新一代信息技术": ("信息", "电子", "网络", "软件"),
    "人工智能": ("智能", "机器人", "数据", "视觉"),
    "高技术服务业": ("检测", "信息服务", "工程咨询", "知识产权"),
    "传统制造业": ("机械", "五金", "制造", "工贸"),
    "现代服务业": ("商务", "咨询", "物流", "服务"),
    "化工": ("化工", "精细化工", "涂料", "化学"),
    "批发和零售业": ("商贸", "贸易", "物资", "经贸"),
    "绿色食品加工": ("食品", "农业", "绿色食品", "酒业"),
    "影音艺媒": ("文化传媒", "影视", "传媒", "数字文化"),
    "养生保健": ("健康", "养生", "保健", "健康产业"),
    "冶金": ("冶金", "金属", "特钢", "合金"),
}
"""Words that follow the brand in a firm's name, by industry (天津+brand+word+suffix)."""
