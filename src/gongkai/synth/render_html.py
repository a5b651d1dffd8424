"""HTML pages: real <table>s with the official row/col spans, optional site chrome, GBK, Traditional.

`layout` is a '+'-joined set of options: chrome (nav, breadcrumbs, footer, scripts around the
article), gbk (declared <meta charset=gbk>, encoded gb18030), traditional (opencc s2t, as on mirror
sites); "plain" has none of them.
"""

from __future__ import annotations

from functools import cache
from html import escape

from gongkai.synth.model import Synthetic
from gongkai.synth.template import Table

OPTIONS = ("chrome", "gbk", "traditional")


@cache
def _converter():
    import opencc

    return opencc.OpenCC("s2t")


def to_traditional(text: str) -> str:
    return _converter().convert(text)


def choose_layout(syn: Synthetic) -> str:
    rng = syn.rng("html-layout")
    chosen = [o for o, p in zip(OPTIONS, (0.6, 0.2, 0.08)) if rng.random() < p]
    return "+".join(chosen) or "plain"


def render_html(syn: Synthetic, layout: str | None = None) -> bytes:
    layout = layout or choose_layout(syn)
    options = set(layout.split("+")) - {"plain"}
    if options - set(OPTIONS):
        raise ValueError(f"unknown html options {sorted(options - set(OPTIONS))}; known: {OPTIONS}")
    page = page_of(syn, "chrome" in options, "gbk" in options)
    if "traditional" in options:
        page = to_traditional(page)
    return page.encode("gb18030" if "gbk" in options else "utf-8")


def table_html(table: Table) -> str:
    rows = []
    for row in table.rows:
        cells = []
        for c in row:
            span = (f' rowspan="{c.rowspan}"' if c.rowspan > 1 else "") + (
                f' colspan="{c.colspan}"' if c.colspan > 1 else ""
            )
            align = "" if c.header and len(c.text) > 8 else ' align="center"'
            body = escape(c.text) if c.text else "&nbsp;"
            cells.append(f"<td{span}><p{align}>{body}</p></td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        '<table align="center" border="1" cellspacing="0" cellpadding="0"><tbody>' + "".join(rows) + "</tbody></table>"
    )


def _article(syn: Synthetic, rng) -> str:
    heading_tag = rng.choice(("p", "h3", "p"))
    out = []
    for block in syn.blocks:
        if isinstance(block, Table):
            out.append(table_html(block))
        elif block.kind == "title":
            continue
        elif block.kind == "heading":
            out.append(f"<{heading_tag}><strong>{escape(block.text)}</strong></{heading_tag}>")
        elif block.kind == "sign":
            out.append(f'<p style="text-align: right">{escape(block.text)}</p>')
        elif block.kind == "meta":
            out.append(f'<p style="text-align: center">{escape(block.text)}</p>')
        else:
            out.append(f'<p style="text-indent: 2em">{escape(block.text)}</p>')
    return "\n".join(out)


def page_of(syn: Synthetic, chrome: bool, gbk: bool) -> str:
    rng = syn.rng("html-page")
    charset = '<meta http-equiv="Content-Type" content="text/html; charset=gbk">' if gbk else '<meta charset="utf-8">'
    title = escape(syn.title)
    article = (
        f'<div class="article"><h1 class="title">{title}</h1>\n<div class="content">{_article(syn, rng)}</div></div>'
    )
    if chrome:
        region = escape(syn.agency.region)
        article = (
            f'<div class="header"><div class="logo">{region}人民政府</div><ul class="nav"><li><a href="/">首页</a></li>'
            '<li><a href="/zwgk/">政务公开</a></li><li><a href="/zwfw/">政务服务</a></li><li><a href="/hdjl/">互动交流</a></li></ul></div>\n'
            '<div class="crumbs">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk/">政府信息公开</a> &gt; 政府信息公开年报</div>\n'
            f'<div class="info">发布时间：{syn.published.isoformat()} 来源：{escape(syn.agency.name)} 浏览次数：<span id="hits">{rng.randint(30, 3000)}</span>'
            ' 【字体：<a href="#">大</a> <a href="#">中</a> <a href="#">小</a>】</div>\n'
            + article
            + f'\n<div class="footer"><p>主办单位：{region}人民政府办公室　联系电话：0{rng.randint(100, 999)}-{rng.randint(2000000, 8999999)}</p>'
            f"<p>网站标识码：{rng.randint(10**9, 10**10 - 1)}　ICP备{rng.randint(10**7, 10**8 - 1)}号</p></div>\n"
            '<script type="text/javascript">var _hmt = _hmt || []; (function(){ var hm = document.createElement("script");'
            ' hm.src = "/js/stat.js"; document.body.appendChild(hm); })();</script>'
        )
    return f"<!DOCTYPE html>\n<html><head>{charset}<title>{title}</title></head>\n<body>\n{article}\n</body></html>\n"
