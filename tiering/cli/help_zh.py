"""The Chinese summary of every top-level command: the command list of ``tiering --help`` shows it, and each
command's own ``--help`` opens with it above the English text."""

from __future__ import annotations

COMMAND_HELP_ZH = {
    "audit": "审计库：每次运行的哈希链记录、核验、回放与人工调整",
    "classify": "逐家判定名录中每家企业在各现行项目中的结果，写出结果工作簿与追溯",
    "datasets": "生成按区县公开数据校准的模拟名录，或复制自带样例名录",
    "explain": "逐条说明一家企业（统一社会信用代码或企业名称）为何符合或不符合",
    "model": "成长潜力评分卡：训练、跨期检验、打分并给出理由",
    "report": "写出局用工作簿、HTML 分析报告与逐家打印页（可选 PDF 简报）",
    "rules": "检查规则文件、运行规则用例、比较规则版本",
    "select": "按遴选政策选出年度重点培育企业，写出名单、逐家简报（Markdown 与 PDF）",
    "serve": "启动复核台（网页）：运行记录、企业及其说明、复核意见",
    "targets": "按计划目标逐年计数，给出缺口与最接近达标的企业",
    "template": "写出空白名录模板（全部字段、中文名、单位与含义）",
    "users": "复核台的账户管理",
    "watch": "处理企业事件，保持层级为最新并发出中文提示",
}
"""Command name → one line in Chinese (the English docstring follows it in the command's own help)."""
