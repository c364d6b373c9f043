"""The printable "procès-verbal du tirage au sort": one self-contained HTML page, in French.

No external resource (inline CSS, bars drawn with CSS), every value escaped: the page can be
opened offline, printed, and archived with the draw.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import TYPE_CHECKING, Any

from lotas_core.french import french_datetime, sizes_footer
from lotas_core.selection.columns import RowLayout

if TYPE_CHECKING:
    from lotas_core.draws.history_entry import DrawRecord

_CSS = """
body { font-family: Arial, Helvetica, sans-serif; font-size: 11pt; color: #111; margin: 2em; }
h1 { font-size: 16pt; margin-bottom: 0.2em; }
h2 { font-size: 12.5pt; border-bottom: 1px solid #888; margin-top: 1.4em; }
table { border-collapse: collapse; }
th, td { border: 1px solid #999; padding: 2px 6px; text-align: left; vertical-align: top; }
th { background: #eee; }
table.params th { width: 16em; }
.mono { font-family: "Courier New", monospace; font-size: 9.5pt; word-break: break-all; }
.bar { background: #3b6ea5; height: 0.9em; display: inline-block; }
.bar.ok { background: #2e7d32; }
td.chart { width: 22em; }
.notice { border: 1px solid #b26a00; background: #fff4e0; padding: 0.5em; }
.rows td, .rows th { font-size: 9.5pt; }
pre { background: #f4f4f4; padding: 0.6em; white-space: pre-wrap; }
.sign { margin-top: 2.5em; display: flex; gap: 4em; }
@media print { body { margin: 0.5cm; } h2 { page-break-after: avoid; } }
"""


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _params_table(pairs: list[tuple[str, Any]], mono: tuple[str, ...] = ()) -> str:
    lines = ['<table class="params">']
    for label, value in pairs:
        cls = ' class="mono"' if label in mono else ""
        lines.append(f"<tr><th>{_e(label)}</th><td{cls}>{_e(value)}</td></tr>")
    lines.append("</table>")
    return "\n".join(lines)


def _funnel(funnel: dict[str, int], labels: Mapping[str, str]) -> str:
    top = max([int(v) for v in funnel.values()] + [1])
    lines = ['<table class="funnel"><tr><th>Étape</th><th>Patients</th><th>Proportion</th></tr>']
    for key, value in funnel.items():
        width = 100.0 * int(value) / top
        cls = "bar ok" if key == "eligible" else "bar"
        label = labels.get(key, key)
        label = label[:1].upper() + label[1:]
        lines.append(
            f"<tr><td>{_e(label)}</td>"
            f"<td>{_e(value)}</td><td class=\"chart\"><span class=\"{cls}\" "
            f"style=\"width: {width:.1f}%\"></span></td></tr>"
        )
    lines.append("</table>")
    return "\n".join(lines)


def _rows(rows: list[dict[str, Any]], layout: RowLayout) -> str:
    head = "".join(f"<th>{_e(col)}</th>" for col in layout.names)
    lines = [f'<table class="rows"><tr>{head}</tr>']
    for row in rows:
        cells = [f"<td>{_e(col.text(row.get(col.name)))}</td>" for col in layout.columns]
        lines.append("<tr>" + "".join(cells) + "</tr>")
    lines.append("</table>")
    return "\n".join(lines)


def _who(item: Mapping[str, Any]) -> str:
    name = item.get("distribution") or item.get("plugin") or item.get("name") or "?"
    version = item.get("version")
    return f"{name} {version}" if version else str(name)


def _provenance(provenance: Mapping[str, Any] | None) -> str:
    """Which code made the draw: lotas, the campaign and its parameters, the rules, the plugins."""
    if not provenance:
        return ("<p>Non enregistrée : ce tirage a été fait par une version de lotas qui ne "
                "gardait pas la provenance.</p>")
    campaign = provenance.get("campaign") or {}
    table = _params_table(
        [("Version de lotas", provenance.get("lotas_version")),
         ("Campagne", f"{campaign.get('id')} ({_who(campaign)}, plugin "
                      f"{campaign.get('plugin')})"),
         ("Empreinte des paramètres", campaign.get("parameters_sha256"))],
        ("Empreinte des paramètres",),
    )
    rules = ['<table class="rules"><tr><th>Ordre</th><th>Règle</th><th>Plugin</th>'
             '<th>Distribution</th></tr>']
    for rule in provenance.get("rules") or []:
        rules.append(f"<tr><td>{_e(rule.get('order'))}</td><td>{_e(rule.get('id'))}</td>"
                     f"<td>{_e(rule.get('plugin'))}</td><td>{_e(_who(rule))}</td></tr>")
    rules.append("</table>")
    plugins = ", ".join(f"{_e(p.get('name'))} ({_e(_who(p))})"
                        for p in provenance.get("plugins") or [])
    return (f"{table}\n<p>Règles d'éligibilité appliquées, dans l'ordre :</p>\n"
            + "\n".join(rules) + f"\n<p>Plugins chargés : {plugins or '-'}.</p>")


def html_report(draw: DrawRecord, layout: RowLayout,
                labels: Mapping[str, str] | None = None) -> str:
    """The report of ``draw`` as a complete HTML document, its rows in ``layout``'s columns.

    ``labels`` names the funnel steps (``Lotas.funnel_labels``); without them the keys show.
    """
    local = draw.created_at.astimezone()
    hashes = ("SHA-256 de l'archive", "Graine", "Empreinte de la population",
              "Empreinte de l'entrée", "Empreinte de l'entrée précédente")
    establishment = _params_table([("FINESS", draw.finess), ("Financement", draw.financing)])
    archive = _params_table(
        [("Fichier", draw.archive_name), ("Taille (octets)", draw.archive_size),
         ("SHA-256 de l'archive", draw.archive_sha256)],
        hashes,
    )
    params = _params_table(
        [("Identifiant du tirage", draw.draw_id), ("Campagne", draw.campaign_id),
         ("Date et heure", french_datetime(local)),
         ("Échantillon principal", draw.sizes.main),
         ("Échantillon de réserve", draw.sizes.reserve),
         ("Algorithme", draw.algorithm), ("Graine", draw.seed),
         ("Empreinte de la population", draw.population_digest)],
        hashes,
    )
    history = _params_table(
        [("Entrée", draw.label()), ("Position dans la chaîne", draw.chain_pos),
         ("Empreinte de l'entrée", draw.entry_hash),
         ("Empreinte de l'entrée précédente", draw.prev_hash)],
        hashes,
    )
    notice = f'<p class="notice">{_e(draw.notice)}</p>' if draw.notice else ""
    transmissions = ""
    if draw.transmissions:
        items = "".join(_transmission_item(t) for t in draw.transmissions)
        transmissions = f"<h2>Transmissions</h2><ul>{items}</ul>"
    verify = _e(f"lotas verify {draw.draw_id} --archives <dossier des archives PIVOINE>")
    return f"""<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<title>Procès-verbal du tirage au sort {_e(draw.draw_id)}</title>
<style>{_CSS}</style>
</head>
<body>
<h1>Procès-verbal du tirage au sort</h1>
<p>Campagne {_e(draw.campaign_id)} – tirage {_e(draw.draw_id)} du
{_e(french_datetime(local, " à "))}</p>
<h2>Établissement</h2>
{establishment}
<h2>Archive PIVOINE utilisée</h2>
{archive}
<h2>Sélection des patients</h2>
{_funnel(draw.funnel, labels or {})}
<h2>Tirage</h2>
{params}
{notice}
<h2>Provenance</h2>
{_provenance(draw.provenance)}
<h2>Historique</h2>
{history}
<h2>Patients tirés</h2>
{_rows(draw.rows, layout)}
<p>{_e(sizes_footer(len(draw.main_rows), len(draw.reserve_rows)))}</p>
{transmissions}
<h2>Comment vérifier ce tirage</h2>
<p>Sur le poste qui détient l'historique et l'archive :</p>
<pre>{verify}</pre>
<p>La commande relit l'archive (dont elle contrôle le SHA-256), refait la sélection,
recalcule l'empreinte de la population et refait le tirage avec la graine enregistrée ;
elle signale toute différence. L'algorithme {_e(draw.algorithm)} peut aussi être refait
indépendamment :</p>
<ol>
<li>les identifiants des patients éligibles, encodés en latin-1, dédoublonnés et triés
octet par octet ;</li>
<li>empreinte de la population = SHA-256 de la concaténation de
« identifiant + saut de ligne » ;</li>
<li>bloc n° i = SHA-256(graine ‖ empreinte ‖ i sur 8 octets gros-boutiste), découpé en quatre
entiers de 64 bits gros-boutistes, utilisés dans l'ordre ;</li>
<li>uniforme(k) : limite = 2<sup>64</sup> − (2<sup>64</sup> mod k) ; prendre l'entier suivant w
jusqu'à ce que w &lt; limite ; résultat w mod k ;</li>
<li>a = [0 … N−1] ; pour j de 0 à n−1 : r = j + uniforme(N − j), échanger a[j] et a[r] ;
le rang j+1 est le patient a[j] (échantillon principal d'abord, puis réserve).</li>
</ol>
<div class="sign"><div>Fait le ……………………</div><div>Signature du médecin DIM :</div></div>
</body>
</html>
"""


def _transmission_item(event: dict[str, Any]) -> str:
    """One transmission event: when, how, its state, and the receipt (a hand-off's or QUALHAS's)."""
    from lotas_core.transmission.delivery import summarize

    state = summarize("", [event]).label_fr
    receipt = event.get("receipt")
    kind = "accusé de réception" if event.get("final", True) else "accusé de dépôt"
    shown = f', {kind} <span class="mono">{_e(receipt)}</span>' if receipt else ""
    return (f"<li>{_e(event.get('recorded_at'))} : {_e(event.get('transport'))}, "
            f"{_e(state)}{shown}</li>")
