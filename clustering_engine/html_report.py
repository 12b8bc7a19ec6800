"""The run's figures under figures/ (charts as PNG/SVG/PDF, galleries as JPEG) and a
self-contained HTML report.

The HTML report inlines every figure as SVG, an interactive S_Dbw-vs-K chart (hover a point
for its solution and value, switch between the spaces it was scored in), sortable tables, and
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
from .stability import stability_summary, stability_text
from . import metrics
from .spec import (FIGURE_FORMATS, GALLERY_FORMAT, K_THRESHOLD_NEVER_MET, METHOD_TITLES, METHODS,
                   SPACE_TITLES, chosen_solutions, k_choice_flag)

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

    def name(v):
        return f"{v['method']} ({v['algorithm']})"

    own = [v for v in sel.values() if v.get("selects_k")]
    if own:
        keep("sdbw_vs_k_own", figures.plot_sdbw_vs_k_own_spaces(
            {name(v): (SPACE_TITLES.get(v["space"], v["space"]), list(zip(v["ks"], v["s_dbw"])))
             for v in own}))
        keep("marginal_gain_own", figures.plot_marginal_gain(
            {name(v): list(zip(v["ks"], v["marginal_gain"])) for v in own},
            own[0]["threshold"], {name(v): v["chosen_k"] for v in own},
            rose={name(v): [k for k, up in zip(v["ks"], v["s_dbw_rose"]) if up] for v in own}))
    for space in manifest.get("evaluation_spaces", {}).get("matrix", {}):
        series = {name(v): list(zip(v["ks"], v["s_dbw"])) for v in sel.values()
                  if v["space"] == space}
        if series:
            keep(f"sdbw_vs_k_{space}", figures.plot_sdbw_vs_k(series, SPACE_TITLES[space]))
    truth = _truth_series(manifest)
    if truth:
        keep("truth_ami_by_k", figures.plot_truth_ami(truth, manifest["truth"]["column"]))

    drawn = result.figure_metrics
    chosen = drawn.chosen
    curves = {f"{METHOD_TITLES[m]} ({sid})": drawn.data_loss_curves[sid]
              for m, sid in chosen.items() if sid in drawn.data_loss_curves}
    if curves:
        keep("data_loss", figures.plot_data_loss(curves))

    if drawn.cooccurrence is not None:
        shown = manifest.get("cooccurrence_heatmap") or {}
        keep("cooccurrence_heatmap", figures.plot_cooccurrence_heatmap(
            drawn.cooccurrence, drawn.ami, shown.get("k_text"), shown.get("k_image"),
            (manifest.get("ami") or {}).get("normalisation")))

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
    body += [f"<p class=notice>{html.escape(n)}</p>" for n in manifest.get("notes") or ()]
    body.append(_section("AMI diagnostic: do text and image carry the same information?",
                         _ami_table(manifest["ami_diagnostic"], manifest.get("ami"))))
    body.append(_section("Choosing K: marginal gain of S_Dbw in each method's own space",
                         k_table_html(manifest)))
    body.append(_section("S_Dbw of every solution in every method's space",
                         space_matrix_html(manifest)))
    if manifest.get("truth"):
        body.append(_section(f"Known groupings: agreement with '{manifest['truth']['column']}'",
                             truth_table_html(manifest)))
    body.append(_section("S_Dbw vs K (interactive)", _interactive_sdbw(manifest)))
    titles = {"sdbw_vs_k_own": "S_Dbw vs K — each method in its own space",
              "marginal_gain_own": "Marginal gain of S_Dbw (own spaces; red cross: S_Dbw rose)",
              "truth_ami_by_k": "Agreement with the known groupings by K",
              "data_loss": "Data loss when keeping the top-k clusters",
              "cooccurrence_heatmap": "Text x image label co-occurrence (Hungarian order)"}
    titles.update({f"sdbw_vs_k_{space}": f"S_Dbw vs K — every method scored in the {title}"
                   for space, title in SPACE_TITLES.items()})
    for name, title in titles.items():
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


def _ami_table(rows: list[dict], about: dict | None) -> str:
    about = about or {}
    note = (f"<p class=note>AMI normalisation: {html.escape(str(about.get('normalisation')))} "
            f"({html.escape(str(about.get('formula', '')))}); "
            f"{html.escape(str(about.get('noise', '')))}. The higher the AMI, the less joint "
            "clustering should add (paper, section 3.2).</p>")
    head = ("<tr><th>algorithm</th><th>K_t × K_i</th><th>AMI</th><th>p (perm.)</th>"
            "<th>null 95% band</th><th>noise left out</th><th>reading</th></tr>")
    cells = "".join(
        f"<tr><td>{r['algorithm']}</td><td>{_fmt(r['k_text'])} × {_fmt(r['k_image'])}</td>"
        f"<td>{_fmt(r['ami'])}</td><td>{_fmt(r['p_value'])}</td>"
        f"<td>{_band(r.get('null_band'))}</td><td>{_pct(r.get('share_left_out'))}</td>"
        f"<td>{html.escape(r['reading'])}</td></tr>" for r in rows)
    return note + f"<table class='sortable ami'>{head}{cells}</table>"


def _band(band) -> str:
    return "—" if not band else f"[{band[0]:.4f}, {band[1]:.4f}]"


def _pct(v) -> str:
    return "—" if v is None else f"{100 * float(v):.1f}%"


def k_table_html(m: dict) -> str:
    """Per method (K-Means family): S_Dbw and marginal gain by K in its own space, the chosen
    K, steps where S_Dbw rose and Ks where S_Dbw has reduced to Scat, flagged."""
    rows = []
    for v in sorted((v for v in m["k_selection"].values() if v.get("selects_k")),
                    key=lambda v: (METHODS.index(v["method"]), v["algorithm"])):
        for i, k in enumerate(v["ks"]):
            flags = []
            if v["chosen_k"] == k:
                fallback = k_choice_flag(v)
                flags.append(f"⚠ {fallback}" if fallback else "★ chosen")
            if v["s_dbw_rose"][i]:
                flags.append("⚠ S_Dbw rose from the previous K")
            if v["reduced_to_scat"][i]:
                flags.append("⚠ S_Dbw reduced to Scat")
            cls = " class=rose" if v["s_dbw_rose"][i] else ""
            rows.append(f"<tr{cls}><td>{v['method']}</td><td>{v['algorithm']}</td>"
                        f"<td>{html.escape(SPACE_TITLES.get(v['space'], v['space']))}</td>"
                        f"<td>{k}</td><td>{_fmt(v['s_dbw'][i])}</td>"
                        f"<td>{_fmt(v['marginal_gain'][i])}</td>"
                        f"<td>{html.escape('; '.join(flags))}</td></tr>")
    threshold = next(iter(m["k_selection"].values()), {}).get("threshold", 0.01)
    note = (f"<p class=note>The chosen K is the first grid K whose marginal gain "
            f"|ΔS_Dbw/ΔK| is below {threshold:g} (the paper's rule), in the method's own "
            "space; when no K's gain falls below the threshold, the largest grid K is taken "
            f"and flagged “{K_THRESHOLD_NEVER_MET}”. The gain is an absolute value, so a step where S_Dbw got worse also reads "
            "as small: such steps are flagged. Where most cluster pairs have no point near "
            "either centre, Dens_bw is 0 and S_Dbw has reduced to Scat (compactness only).</p>")
    head = ("<tr><th>method</th><th>algorithm</th><th>space</th><th>K</th><th>S_Dbw</th>"
            "<th>marginal gain</th><th>flags</th></tr>")
    return note + f"<table class='sortable ktable'>{head}{''.join(rows)}</table>"


def space_matrix_html(m: dict) -> str:
    """Rows solutions, columns spaces; each solution's own space is marked (values from
    different columns are not comparable)."""
    spaces = list(m.get("evaluation_spaces", {}).get("matrix", {}))
    head = "<tr><th>solution</th>" + "".join(
        f"<th title='{html.escape(SPACE_TITLES[s])}'>{s} space</th>" for s in spaces) + "</tr>"
    rows = []
    for sol in m["solutions"]:
        metrics_ = sol["metrics"]
        by_space = metrics_.get("s_dbw_by_space") or {}
        cells = []
        for space in spaces:
            own = space == metrics_.get("own_space")
            value = _fmt(by_space.get(space)) + (" ●" if own else "")
            reading = metrics.s_dbw_reading((metrics_.get("s_dbw_parts_by_space") or {}).get(space))
            title = f" title='{html.escape(reading)}'" if reading else ""
            cells.append(f"<td class='{'own' if own else ''}'{title}>{value}"
                         f"{' (Scat only)' if reading else ''}</td>")
        rows.append(f"<tr><td>{html.escape(sol['id'])}</td>{''.join(cells)}</tr>")
    note = ("<p class=note>S_Dbw of every solution scored in every method's space (● = the "
            "space it was clustered in, where its K is chosen). Compare within a column only: "
            "values from different spaces are not comparable. Label-level's space is the text "
            "space and the image space side by side. Lower is better.</p>")
    return note + f"<table class='sortable matrix'>{head}{''.join(rows)}</table>"


def _truth_series(m: dict) -> dict:
    out: dict[str, list] = {}
    for s in m["solutions"]:
        truth = s["metrics"].get("truth")
        if truth is not None and s["k"] is not None and s["algorithm"] == "kmeans":
            out.setdefault(s["method"], []).append((s["k"], truth.get("ami")))
    return {method: sorted(points) for method, points in out.items()}


def truth_table_html(m: dict) -> str:
    """AMI, ARI, homogeneity and completeness of every solution against the truth column."""
    head = ("<tr><th>solution</th><th>method</th><th>K</th><th>AMI</th><th>ARI</th>"
            "<th>homogeneity</th><th>completeness</th><th>left out</th></tr>")
    rows = "".join(
        f"<tr><td>{html.escape(s['id'])}</td><td>{s['method']}</td><td>{_fmt(s['k'])}</td>"
        + "".join(f"<td>{_fmt(s['metrics']['truth'].get(c))}</td>"
                  for c in ("ami", "ari", "homogeneity", "completeness"))
        + f"<td>{_pct(s['metrics']['truth'].get('share_left_out'))}</td></tr>"
        for s in m["solutions"] if s["metrics"].get("truth"))
    note = (f"<p class=note>Known groupings from the column '{html.escape(m['truth']['column'])}'"
            " — never used to cluster. AMI as the paper's Eq. (1); pairs that are noise or "
            "have no value in the column are left out.</p>")
    return note + f"<table class='sortable truth'>{head}{rows}</table>"


def _solutions_table(m: dict) -> str:
    cols = ["id", "method", "algorithm", "k", "n_clusters", "noise_share"]
    mcols = ["own_space", "s_dbw_own", "marginal_gain_own", "ami_text_image", "data_loss_top25"]
    head = "".join(f"<th>{c}</th>" for c in cols + mcols + ["stability_ari"])
    rows = []
    for s in m["solutions"]:
        cells = [s[c] for c in cols] + [s["metrics"].get(c) for c in mcols]
        rows.append("<tr>" + "".join(f"<td>{_fmt(v)}</td>" for v in cells)
                    + f"<td>{html.escape(stability_text(s['metrics']))}</td></tr>")
    note = ("<p class=note>s_dbw_own: S_Dbw in the space the solution was clustered in "
            "(label-level: text and image spaces side by side); the matrix above has every "
            "space. Lower is better. Click a header to sort.</p>")
    note += f"<p class=note>{html.escape(stability_summary(m.get('stability')))}</p>"
    return note + f"<table class=sortable><tr>{head}</tr>{''.join(rows)}</table>"


def _interactive_sdbw(m: dict) -> str:
    series = [{"name": f"{v['method']} ({v['algorithm']})", "space": v["space"],
               "points": [[k, s] for k, s in zip(v["ks"], v["s_dbw"])]}
              for v in m["k_selection"].values()]
    spaces = list(m.get("evaluation_spaces", {}).get("matrix", {}))
    radios = " ".join(
        f"<label><input type=radio name=space value={s}{' checked' if i == 0 else ''}> "
        f"{s} space</label>" for i, s in enumerate(spaces))
    return (f"<div>scored in: {radios}</div><svg id=sdbw width=720 height=320></svg>"
            f"<script>const SDBW={json.dumps(series)};"
            f"const SDBW_FIRST={json.dumps(spaces[:1])};</script>")


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
body{font-family:system-ui,"Noto Sans","Noto Sans CJK SC","Noto Sans Thai","Noto Color Emoji","Apple Color Emoji","Segoe UI Emoji","Symbola",sans-serif;margin:2rem;max-width:1200px;color:#222}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.2rem .4rem}
th{background:#f3f3f3;cursor:pointer}.meta,.note{color:#555;font-size:.85rem}
.fig svg{max-width:100%;height:auto}.cluster{border-top:1px solid #ddd;padding:.5rem 0}
.reps{display:flex;gap:.5rem;flex-wrap:wrap}figure{width:150px;margin:0}figure img{width:96px;height:96px;object-fit:cover;background:#eee}
figcaption{font-size:.7rem;unicode-bidi:plaintext}.terms{font-size:.85rem;color:#333}
.notice{background:#fff4ce;border:1px solid #e0c060;padding:.5rem}td.own{font-weight:bold}tr.rose td{background:#fde8e8}
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
document.querySelectorAll('input[name=space]').forEach(r=>r.onchange=()=>drawSdbw(r.value));if(typeof SDBW_FIRST!=='undefined'&&SDBW_FIRST.length)drawSdbw(SDBW_FIRST[0]);
</script></body></html>
"""
