"""The rule catalog of spec/rules.md as data.

Identities are linear equations over cell ids (`Identity`), generated per template from the
table structure; the engine judges them all the same way. Every other rule is a `Rule` with
its severity, origin and the Chinese name a reviewer reads.
"""

from __future__ import annotations

from dataclasses import dataclass

from gongkai.extract.rows import BLOCK_NAMES, COLUMN_NAMES, Identity, identities  # noqa: F401  (the catalog's identities)


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    severity: str  # error | warning | info
    origin: str  # source | extraction
    name: str  # what must hold, or what is checked
    broken: str  # the headline a reviewer reads when it does not hold


SEVERITY_ZH = {"error": "错误", "warning": "警告", "info": "提示"}
ORIGIN_ZH = {"source": "报告本身", "extraction": "解析存疑"}

CATALOG: dict[str, Rule] = {
    r.id: r
    for r in (
        Rule("requests.balance", "error", "source", "勾稽关系：本年新收＋上年结转＝办理结果总计＋结转下年度", "勾稽关系不成立（新收＋上年结转≠办理结果总计＋结转下年度）"),
        Rule("requests.outcomes_sum", "error", "source", "办理结果各项之和等于（七）总计", "办理结果各项之和≠总计"),
        Rule("requests.row_sum", "error", "source", "各类申请人之和等于总计列", "申请人各列之和≠总计列"),
        Rule("appeals.block_sum", "error", "source", "行政复议、行政诉讼各项之和等于总计", "行政复议、行政诉讼各项之和≠总计"),
        Rule("value.domain", "error", "source", "件数为非负整数，金额非负", "数值不合规（负数或非整数）"),
        Rule("structure.section_missing", "error", "source", "缺少六个部分之一", "缺少章节"),
        Rule("structure.table_missing", "error", "source", "缺少标准表格", "缺少统计表"),
        Rule("structure.table_unreadable", "warning", "extraction", "表格无法机读", "统计表无法机读"),
        Rule("structure.cells_missing", "error", "source", "单元格空白或无法读取", "单元格空白或无法读取"),
        Rule("template.outdated", "error", "source", "使用了过期的2019年试行格式", "使用了过时的 2019 年格式"),
        Rule("template.mixed", "warning", "source", "混用了2019与2021两版格式", "混用了2019与2021两版格式"),
        Rule("template.label_altered", "warning", "source", "表格标签与格式文字不一致", "表格标签与模板不一致"),
        Rule("template.extra_rows", "info", "source", "表格有格式之外的行", "表格含模板以外的行"),
        Rule("narrative.table_mismatch", "warning", "source", "正文数字与表格不一致", "正文数字与表格不一致"),
        Rule("narrative.year_mismatch", "warning", "source", "正文所述年度与报告年度不一致", "正文所述年份与报告年度不一致"),
        Rule("meta.published_late", "warning", "source", "发布晚于期限", "发布晚于期限"),
        Rule("meta.period", "warning", "source", "统计期限不是报告年度1月1日至12月31日", "统计期间不是报告年度的1月1日至12月31日"),
        Rule("fees.statement_missing", "info", "source", "第六部分未说明信息处理费", "未说明信息处理费收取情况"),
        Rule("fees.unpaid_without_notice", "warning", "source", "有逾期未缴费不再处理的申请，但未说明收费通知", "有逾期未缴费的申请，但未说明收费通知"),
        Rule("extraction.low_confidence", "warning", "extraction", "识别置信度低", "识别置信度低，请核对原件"),
        Rule("extraction.reader_note", "warning", "extraction", "读取时的提示", "读取时的提示"),
        Rule("corpus.carry_continuity", "error", "source", "上年结转与上一年报告的结转下年度不一致", "上年结转≠上一年度报告的结转下年度"),
        Rule("corpus.in_force_continuity", "warning", "source", "现行有效件数与上一年不衔接", "现行有效件数与上一年度不衔接"),
        Rule("corpus.copied_text", "warning", "source", "正文与上一年雷同", "正文与上一年度雷同"),
        Rule("corpus.identical_tables", "warning", "source", "表格与上一年完全相同", "统计表与上一年度完全相同"),
        Rule("corpus.duplicate_report", "info", "source", "同一机关同一年度的报告有多份文件，取可读性最好的一份", "同一报告的重复文件"),
        Rule("anomaly.yoy_jump", "warning", "source", "主要总数与上年相比变化在五倍以上", "与上年相比陡增或骤降"),
        Rule("anomaly.peer_outlier", "warning", "source", "办理结果或纠错占比远离同类机关", "占比远离同地区同类机关"),
        Rule("anomaly.zero_run", "warning", "source", "依申请公开连续多年全部为 0，而同类机关都有申请", "连续多年申请为 0"),
        Rule("anomaly.fee_without_requests", "warning", "source", "收取了信息处理费却没有可收费的申请", "无申请却收取信息处理费"),
        Rule("anomaly.review_missing_for_suit", "warning", "source", "有复议后起诉，却没有行政复议", "复议后起诉而无复议"),
        Rule("anomaly.in_force_vanished", "warning", "source", "现行有效文件降为 0 而没有废止", "现行有效降为 0 而无废止"),
    )
}
