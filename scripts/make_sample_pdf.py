"""Generate data/sample/company-handbook.pdf: an English and Chinese PDF written for this
project (no third-party text), with reportlab's built-in CJK font so no font file is needed.

    python scripts/make_sample_pdf.py [output.pdf]
"""

from __future__ import annotations

import sys
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate

PAGES = [
    ("en", "Employee Handbook", [
        "Welcome to Northwind Labs. This handbook explains how we work together: office hours, "
        "leave, information security and the benefits every employee receives.",
        "The Berlin office is open from 7:00 to 21:00 on weekdays. Visitors must be registered "
        "at reception and accompanied by an employee at all times.",
    ]),
    ("en", "Annual Leave", [
        "Full-time employees are entitled to 28 days of paid annual leave per calendar year, "
        "plus public holidays. Part-time employees receive leave in proportion to their "
        "working days.",
        "Up to five unused leave days may be carried over to the next year; they expire on "
        "31 March. Request leave in the HR portal at least two weeks in advance for absences "
        "longer than three days.",
    ]),
    ("zh", "信息安全规定", [
        "所有员工的登录密码长度不得少于十二位，必须同时包含大小写字母、数字和符号，并且每九十天更换一次。"
        "严禁将密码告知他人或写在纸上。",
        "公司电脑必须安装防病毒软件并开启全盘加密。离开座位时必须锁定屏幕。"
        "发现钓鱼邮件或可疑链接时，请立即转发给信息安全团队，不要点击其中的链接。",
    ]),
    ("zh", "培训与发展", [
        "公司每年为每位员工提供八千元的培训预算，可以用于参加行业会议、购买在线课程或考取专业证书。"
        "培训申请须提前一个月提交，由直属经理审批。",
        "新员工入职后第一个月内完成公司文化和信息安全两门必修课程，并由导师进行一对一辅导。",
    ]),
]


def build(out: Path) -> None:
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    base = getSampleStyleSheet()
    styles = {
        "en": (base["Heading1"], base["BodyText"]),
        "zh": (ParagraphStyle("zh-h", parent=base["Heading1"], fontName="STSong-Light"),
               ParagraphStyle("zh", parent=base["BodyText"], fontName="STSong-Light",
                              wordWrap="CJK", leading=16)),
    }
    story = []
    for number, (lang, title, paragraphs) in enumerate(PAGES):
        if number:
            story.append(PageBreak())
        heading, body = styles[lang]
        story.append(Paragraph(title, heading))
        story.extend(Paragraph(p, body) for p in paragraphs)
    doc = SimpleDocTemplate(str(out), pagesize=A4, title="Northwind Labs Employee Handbook",
                            author="rag sample corpus", invariant=1)
    doc.build(story)


if __name__ == "__main__":
    build(Path(sys.argv[1] if len(sys.argv) > 1 else "data/sample/company-handbook.pdf"))
