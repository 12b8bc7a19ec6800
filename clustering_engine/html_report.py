"""The run's figures under figures/ (charts as PNG/SVG/PDF, galleries as JPEG) and a
self-contained HTML report.

The HTML report inlines every figure as SVG, an interactive S_Dbw-vs-K chart (hover a point
for its solution and value, switch between own and common space), sortable tables, and
galleries with small embedded thumbnails, so the file can be mailed or archived alone.
"""
from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

import pandas as pd

from . import figures
from .grid import GridResult
from .spec import (COMMON_SPACE_LABEL, FIGURE_FORMATS, GALLERY_FORMAT, METHOD_TITLES,
                   chosen_solutions)

GALLERY_CLUSTERS = 25
THUMB_PX = 96
GALLERY_DPI = 110   # a 10-cluster gallery ~1,300 px wide: legible, a few hundred kB


def make_figures(out: Path, manifest: dict, pairs: pd.DataFrame, result: GridResult,
                 descriptions: dict, formats=FIGURE_FORMATS) -> dict[str, str]:
    """Save every chart in ``formats`` (plus SVG) and each gallery as one JPEG; returns
    {name: svg text} of the charts for the report.
    Draws only: every number comes from the manifest or ``result.figure_metrics``."""
    formats = tuple(dict.fromkeys((*formats, "svg")))
    fig_dir = out / "figures"
    fig_dir.mkdir(exist_ok=True)
    svgs: dict[str, str] = {}

    def keep(name, fig):
        figures.save_figure(fig, fig_dir / name, formats=formats)
        svgs[name] = (fig_dir / f"{name}.svg").read_text(encoding="utf-8")
        import matplotlib.pyplot as plt
        plt.close(fig)

    sel = manifest["k_selection"]
    for space in ("own", "common"):
        series = {f"{METHOD_TITLES[v['method']]} ({v['algorithm']})": list(zip(v["ks"], v["s_dbw"]))
                  for v in sel.values() if v["space"] == space}
        if series:
            # The long definition of the common space is in the report's note and manifest.
            label = "common space (text+image concatenation)" if space == "common" else "own clustering space"
            keep(f"sdbw_vs_k_{space}", figures.plot_sdbw_vs_k(series, label))
    gains = {f"{METHOD_TITLES[v['method']]} ({v['algorithm']})":
             list(zip(v["ks"], v["marginal_gain"])) for v in sel.values()
             if v["space"] == "common"}
    if gains:
        chosen_k = {f"{METHOD_TITLES[v['method']]} ({v['algorithm']})": v["chosen_k"]
                    for v in sel.values() if v["space"] == "common"}
        threshold = next(iter(sel.values()))["threshold"]
        keep("marginal_gain_common", figures.plot_marginal_gain(gains, threshold, chosen_k))

    drawn = result.figure_metrics
    chosen = drawn.chosen
    curves = {f"{METHOD_TITLES[m]} ({sid})": drawn.data_loss_curves[sid]
              for m, sid in chosen.items() if sid in drawn.data_loss_curves}
    if curves:
        keep("data_loss", figures.plot_data_loss(curves))

    if drawn.cooccurrence is not None:
        keep("cooccurrence_heatmap", figures.plot_cooccurrence_heatmap(drawn.cooccurrence,
                                                                        drawn.ami))

    text_of = dict(zip(pairs["pair_id"], pairs["text"]))
    image_of = dict(zip(pairs["pair_id"], pairs["image_path"]))
    for method, sid in chosen.items():
        clusters = [{"label": c["cluster"], "size": c["size"], "share": c["share"],
                     "top_terms": [t for t, _ in c["top_terms"]],
                     "image_paths": [image_of[p] for p in c["representatives"]],
                     "texts": [text_of[p] for p in c["representatives"]]}
                    for c in descriptions[sid][:10]]
        # Galleries are mostly photographs: one JPEG (an SVG or PDF would embed every tile
        # losslessly, 6-10 MB each); only the charts come in vector formats.
        gallery = figures.plot_cluster_gallery(clusters)
        figures.save_figure(gallery, fig_dir / f"gallery_{method}", formats=(GALLERY_FORMAT,),
                            dpi=GALLERY_DPI)
    return svgs


def write_report(out: Path, manifest: dict, pairs: pd.DataFrame, result: GridResult,
                 descriptions: dict, figure_formats=FIGURE_FORMATS) -> Path:
    svgs = make_figures(out, manifest, pairs, result, descriptions, figure_formats)
    body = [f"<h1>Diptych engine run</h1><p class=meta>{_meta(manifest)}</p>"]
    body.append(_section("AMI diagnostic: do text and image carry the same information?",
                         _ami_table(manifest["ami_diagnostic"])))
    body.append(_section("S_Dbw vs K (interactive)", _interactive_sdbw(manifest)))
    for name, title in (("sdbw_vs_k_own", "S_Dbw vs K — own clustering space"),
                        ("sdbw_vs_k_common", "S_Dbw vs K — common space"),
                        ("marginal_gain_common", "Marginal gain of S_Dbw (common space)"),
                        ("data_loss", "Data loss when keeping the top-k clusters"),
                        ("cooccurrence_heatmap", "Text x image label co-occurrence (Hungarian order)")):
        if name in svgs:
            body.append(_section(title, _strip_xml_header(svgs[name])))
    body.append(_section("All solutions", _solutions_table(manifest)))
    thumbs = _Thumbnails(dict(zip(pairs["pair_id"], pairs["image_path"])))
    text_of = dict(zip(pairs["pair_id"], pairs["text"]))
    for method, sid in chosen_solutions(manifest["k_selection"]).items():
        body.append(_section(f"Gallery — {METHOD_TITLES[method]}, {sid}",
                             _gallery(descriptions.get(sid, []), thumbs, text_of)))
    page = _PAGE.replace("{{BODY}}", "\n".join(body))
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


def _meta(m: dict) -> str:
    d = m["data"]
    models = "; ".join(f"{k}: {html.escape(str(v.get('model_id', v.get('name'))))}"
                       for k, v in m["models"].items())
    return (f"{d['n_pairs_clustered']} pairs clustered ({d['n_rejected']} rows rejected, see "
            f"validation_report.csv) · seed {m['seed']} · models — {models} · "
            f"created {html.escape(m['created_at'])}")


def _section(title: str, content: str) -> str:
    return f"<section><h2>{html.escape(title)}</h2>{content}</section>"


def _strip_xml_header(svg: str) -> str:
    start = svg.find("<svg")
    return f"<div class=fig>{svg[start:]}</div>" if start >= 0 else ""


def _fmt(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.4f}"
    return html.escape(str(v))


def _ami_table(rows: list[dict]) -> str:
    head = "<tr><th>algorithm</th><th>K_t × K_i</th><th>AMI</th><th>p (perm.)</th><th>null 95% band</th><th>reading</th></tr>"
    cells = "".join(
        f"<tr><td>{r['algorithm']}</td><td>{_fmt(r['k_text'])} × {_fmt(r['k_image'])}</td>"
        f"<td>{_fmt(r['ami'])}</td><td>{_fmt(r['p_value'])}</td>"
        f"<td>[{r['null_band'][0]:.4f}, {r['null_band'][1]:.4f}]</td>"
        f"<td>{html.escape(r['reading'])}</td></tr>" for r in rows)
    return f"<table class=sortable>{head}{cells}</table>"


def _solutions_table(m: dict) -> str:
    cols = ["id", "method", "algorithm", "k", "n_clusters", "noise_share"]
    mcols = ["s_dbw_own", "s_dbw_common", "marginal_gain_common", "ami_text_image", "data_loss_top25"]
    head = "".join(f"<th>{c}</th>" for c in cols + mcols)
    rows = []
    for s in m["solutions"]:
        cells = [s[c] for c in cols] + [s["metrics"].get(c) for c in mcols]
        rows.append("<tr>" + "".join(f"<td>{_fmt(v)}</td>" for v in cells) + "</tr>")
    note = (f"<p class=note>s_dbw_own: the solution's own clustering space (none for label-level); "
            f"s_dbw_common: {html.escape(COMMON_SPACE_LABEL)}. Lower is better. Click a header to sort.</p>")
    return note + f"<table class=sortable><tr>{head}</tr>{''.join(rows)}</table>"


def _interactive_sdbw(m: dict) -> str:
    series = [{"name": f"{METHOD_TITLES[v['method']]} ({v['algorithm']})", "space": v["space"],
               "points": [[k, s] for k, s in zip(v["ks"], v["s_dbw"])]}
              for v in m["k_selection"].values()]
    return ("<div><label><input type=radio name=space value=common checked> common space</label> "
            "<label><input type=radio name=space value=own> own space</label></div>"
            "<svg id=sdbw width=720 height=320></svg>"
            f"<script>const SDBW={json.dumps(series)};</script>")


class _Thumbnails:
    """Small JPEG data URIs, one per image file, made once."""

    def __init__(self, path_of: dict):
        self.path_of = path_of
        self.made: dict[str, str] = {}

    def __call__(self, pair_id: str) -> str:
        path = self.path_of.get(pair_id)
        if path not in self.made:
            self.made[path] = self._make(path)
        return self.made[path]

    @staticmethod
    def _make(path) -> str:
        from PIL import Image, ImageOps

        try:
            with Image.open(path) as img:
                img = ImageOps.exif_transpose(img).convert("RGB")
                img.thumbnail((THUMB_PX, THUMB_PX))
                buf = io.BytesIO()
                img.save(buf, "JPEG", quality=70)
            return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()
        except Exception:  # an unreadable file shows as an empty tile, never breaks the report
            return ""


def _gallery(clusters: list[dict], thumbs: _Thumbnails, text_of: dict) -> str:
    cards = []
    for c in clusters[:GALLERY_CLUSTERS]:
        items = "".join(
            f"<figure><img alt='' src='{thumbs(p)}'><figcaption>{html.escape(str(text_of.get(p, ''))[:140])}</figcaption></figure>"
            for p in c["representatives"])
        terms = ", ".join(html.escape(t) for t, _ in c["top_terms"])
        cards.append(f"<div class=cluster><h3>cluster {c['cluster']} · {c['size']} pairs "
                     f"({c['share']:.1%})</h3><p class=terms>{terms}</p><div class=reps>{items}</div></div>")
    return "".join(cards)


_PAGE = """<!doctype html>
<html lang=en><head><meta charset=utf-8><title>Diptych engine run</title>
<style>
body{font-family:system-ui,"Noto Sans CJK SC","Noto Sans",sans-serif;margin:2rem;max-width:1200px;color:#222}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.2rem .4rem}
th{background:#f3f3f3;cursor:pointer}.meta,.note{color:#555;font-size:.85rem}
.fig svg{max-width:100%;height:auto}.cluster{border-top:1px solid #ddd;padding:.5rem 0}
.reps{display:flex;gap:.5rem;flex-wrap:wrap}figure{width:150px;margin:0}figure img{width:96px;height:96px;object-fit:cover;background:#eee}
figcaption{font-size:.7rem;unicode-bidi:plaintext}.terms{font-size:.85rem;color:#333}
#sdbw .pt{cursor:pointer}#tip{position:absolute;background:#fff;border:1px solid #999;padding:2px 6px;font-size:.8rem;display:none}
</style></head><body>
{{BODY}}
<div id=tip></div>
<script>
// Sortable tables: click a header to sort by that column (numbers numerically).
document.querySelectorAll('table.sortable').forEach(t=>{t.querySelectorAll('th').forEach((th,i)=>{th.onclick=()=>{
 const rows=[...t.rows].slice(1),asc=th.dataset.asc!=='1';th.dataset.asc=asc?'1':'0';
 const v=r=>{const x=r.cells[i].textContent;const n=parseFloat(x);return isNaN(n)?x:n};
 rows.sort((a,b)=>{const x=v(a),y=v(b);return (x>y?1:x<y?-1:0)*(asc?1:-1)}).forEach(r=>t.appendChild(r))}})});
// Interactive S_Dbw vs K.
function drawSdbw(space){const svg=document.getElementById('sdbw');if(!svg||typeof SDBW==='undefined')return;
 const S=SDBW.filter(s=>s.space===space),W=720,H=320,P=45,colors=['#1b9e77','#d95f02','#7570b3','#e7298a','#66a61e','#e6ab02'];
 const pts=S.flatMap(s=>s.points);svg.innerHTML='';if(!pts.length){svg.innerHTML='<text x=20 y=40>no data for this space</text>';return}
 const kx=pts.map(p=>p[0]),vy=pts.map(p=>p[1]),x0=Math.min(...kx),x1=Math.max(...kx),y0=Math.min(...vy),y1=Math.max(...vy);
 const X=k=>P+(W-2*P)*(k-x0)/Math.max(x1-x0,1),Y=v=>H-P-(H-2*P)*(v-y0)/Math.max(y1-y0,1e-9);
 let h=`<line x1=${P} y1=${H-P} x2=${W-P} y2=${H-P} stroke=#333 /><line x1=${P} y1=${P} x2=${P} y2=${H-P} stroke=#333 />`+
  `<text x=${W/2} y=${H-8} text-anchor=middle font-size=12>K</text><text x=12 y=${P-10} font-size=12>S_Dbw (${space} space)</text>`+
  `<text x=${P} y=${H-P+15} font-size=10>${x0}</text><text x=${W-P} y=${H-P+15} font-size=10>${x1}</text>`+
  `<text x=2 y=${Y(y1)} font-size=10>${y1.toFixed(3)}</text><text x=2 y=${Y(y0)} font-size=10>${y0.toFixed(3)}</text>`;
 S.forEach((s,i)=>{const c=colors[i%colors.length];h+=`<polyline fill=none stroke=${c} points="${s.points.map(p=>X(p[0])+','+Y(p[1])).join(' ')}" />`;
  s.points.forEach(p=>{h+=`<circle class=pt r=4 fill=${c} cx=${X(p[0])} cy=${Y(p[1])} data-tip="${s.name}, K=${p[0]}: ${p[1].toFixed(4)}" />`});
  h+=`<text x=${W-P-200} y=${P+14*i} fill=${c} font-size=11>${s.name}</text>`});
 svg.innerHTML=h;const tip=document.getElementById('tip');
 svg.querySelectorAll('.pt').forEach(c=>{c.onmouseenter=e=>{tip.textContent=c.dataset.tip;tip.style.display='block';tip.style.left=e.pageX+8+'px';tip.style.top=e.pageY+8+'px'};c.onmouseleave=()=>tip.style.display='none'})}
document.querySelectorAll('input[name=space]').forEach(r=>r.onchange=()=>drawSdbw(r.value));drawSdbw('common');
</script></body></html>
"""
