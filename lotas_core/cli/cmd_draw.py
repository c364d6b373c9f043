"""``lotas draw``, ``verify``, ``history`` and ``export``: making, checking and sharing draws."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from lotas_core.cli.context import CommandContext
from lotas_core.cli.output import emit
from lotas_core.errors import CheckFailed, LotasError, UsageError, os_reason_fr

if TYPE_CHECKING:
    from lotas_core.draws.history import DrawRecord
    from lotas_core.selection.columns import RowLayout

DRAW_FORMATS = ("table", "tsv", "csv", "csv-excel", "json")
#: ``lotas_core.draws.exports.FORMATS``, written out so that ``--help`` imports no exporter.
EXPORT_FORMATS = ("tsv", "csv", "csv-excel", "xlsx", "json", "html")


def register(subparsers: argparse._SubParsersAction) -> None:
    draw = subparsers.add_parser(
        "draw", help="fait un nouveau tirage au sort et l'enregistre dans l'historique"
    )
    draw.add_argument("--archives", type=Path, default=None, help="dossier des archives PIVOINE")
    draw.add_argument("--finess", default=None, help="FINESS de l'établissement")
    draw.add_argument("--seed", default=None, metavar="HEX64",
                      help="graine imposée (64 chiffres hexadécimaux) ; sinon tirée au hasard")
    draw.add_argument("--format", choices=DRAW_FORMATS, default="table")
    draw.add_argument("--output", type=Path, default=None, help="fichier de sortie (mode 0600)")
    draw.add_argument("--campaign", default=None, metavar="ID",
                      help="campagne (par défaut : celle des paramètres)")
    draw.set_defaults(func=run_draw)

    verify = subparsers.add_parser(
        "verify", help="relit l'archive, refait la sélection et le tirage, et compare",
        description="Relit l'archive du tirage DRAW_ID, refait la sélection et le tirage avec la "
        "campagne du tirage (pas celle des paramètres) et compare.",
    )
    verify.add_argument("draw_id", metavar="DRAW_ID")
    verify.add_argument("--archives", type=Path, default=None, help="dossier des archives PIVOINE")
    verify.set_defaults(func=run_verify)

    history = subparsers.add_parser("history", help="liste les tirages enregistrés")
    history.add_argument("--finess", default=None, help="seulement les tirages de ce FINESS")
    history.add_argument("--format", choices=("table", "json"), default="table")
    history.add_argument("--check", action="store_true",
                         help="vérifie la chaîne d'empreintes (code 1 si altérée)")
    history.add_argument("--no-refresh", action="store_true",
                         help="n'interroge pas le serveur e-POP sur les tirages en attente")
    history.set_defaults(func=run_history)

    export = subparsers.add_parser("export", help="exporte un tirage enregistré")
    export.add_argument("draw_id", metavar="DRAW_ID")
    export.add_argument("--format", choices=EXPORT_FORMATS, required=True,
                        help="csv-excel : CSV pour un Excel français (« ; », UTF-8 avec BOM)")
    export.add_argument("--output", type=Path, default=None, help="fichier de sortie (mode 0600)")
    export.set_defaults(func=run_export)


def run_draw(ctx: CommandContext, args: argparse.Namespace) -> int:
    from lotas_core.draws.algorithm import parse_seed
    from lotas_core.draws.exports import (
        check_output_path,
        to_csv,
        to_csv_excel,
        to_json,
        to_tsv,
    )
    from lotas_core.draws.service import make_draw

    seed = parse_seed(args.seed) if args.seed is not None else None
    finess = ctx.finess(args.finess)
    campaign_id = ctx.campaign_id(args.campaign)
    if args.output is not None:  # before drawing: a bad path must not leave a stored draw
        check_output_path(args.output)
    record, _selection = make_draw(
        ctx.lotas, ctx.settings, folder=ctx.archives(args.archives, campaign_id), finess=finess,
        seed=seed, campaign_id=campaign_id,
    )
    if record.notice:
        print(f"lotas: {record.notice}", file=sys.stderr)
    print(f"lotas: tirage enregistré : {record.draw_id}", file=sys.stderr)
    renderers = {"tsv": to_tsv, "csv": to_csv, "json": to_json, "table": table_text,
                 "csv-excel": lambda draw, layout: to_csv_excel(draw, layout).decode("utf-8")}
    layout = ctx.lotas.row_layout(record.campaign_id, record.rows)
    try:
        emit(renderers[args.format](record, layout), args.output)
    except OSError as exc:
        raise UsageError(
            f"Tirage {record.draw_id} enregistré, mais impossible d'écrire {args.output} "
            f"({os_reason_fr(exc)}) : exportez-le avec « lotas export {record.draw_id} ».",
            f"draw stored but output not written: {exc}",
        ) from None
    return 0


def table_text(record: DrawRecord, layout: RowLayout) -> str:
    """The LOTAS table as the screen shows it, with the manual's footer."""
    from lotas_core.draws.exports import footer, table_lines

    lines = table_lines(record, layout)
    widths = [max(len(cells[i]) for cells in lines) for i in range(len(lines[0]))]
    out = [f"Tirage {record.draw_id} ({record.label()}) – {record.algorithm}, "
           f"graine {record.seed}"]
    out += ["  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()
            for cells in lines]
    out.append(footer(record))
    return "\n".join(out) + "\n"


def run_verify(ctx: CommandContext, args: argparse.Namespace) -> int:
    from lotas_core.draws.service import verify_draw

    folder = Path(args.archives).expanduser() if args.archives else None
    differences = verify_draw(ctx.lotas, ctx.settings, args.draw_id, folder)
    for note in differences.notes:
        print(f"Note : {note}")
    if not differences:
        print(f"Tirage {args.draw_id} vérifié : archive, sélection et tirage identiques.")
        return 0
    for line in differences:
        print(f"- {line}")
    raise CheckFailed(
        f"Le tirage {args.draw_id} n'est pas reproduit à l'identique : "
        f"{len(differences)} différence(s) (détail ci-dessus).",
        f"draw {args.draw_id} differs in {len(differences)} place(s)",
    )


def run_history(ctx: CommandContext, args: argparse.Namespace) -> int:
    from lotas_core.draws.exports import to_dict
    from lotas_core.draws.service import open_history

    history = open_history(ctx.settings)
    if args.check:
        problems = history.check()
        if problems:
            for line in problems:
                print(f"- {line}")
            raise CheckFailed(
                f"Historique altéré : {len(problems)} problème(s) (détail ci-dessus) ; si ces "
                f"modifications ne viennent pas de vous, restaurez une sauvegarde de "
                f"{history.path}.",
                f"history check found {len(problems)} problem(s)",
            )
        count = len(history.list())
        print(f"Historique intact : {count} tirage(s), chaînes d'empreintes entières.")
        return 0
    finess = ctx.finess(args.finess) if args.finess else None
    records = history.list(finess=finess)
    deliveries = _deliveries(ctx, history, records, refresh=not args.no_refresh)
    if args.format == "json":
        entries = []
        for record in records:
            data = to_dict(record, ctx.lotas.row_layout(record.campaign_id, record.rows))
            data.pop("rows")
            data.pop("parse_report")
            delivery = deliveries[record.draw_id].to_dict()
            delivery.pop("events")
            data["delivery"] = delivery
            data["damage"] = record.damage or None  # a damaged entry is listed, and says so
            entries.append(data)
        print(json.dumps({"draws": entries}, indent=2, ensure_ascii=False))
        return 0
    if not records:
        print("Aucun tirage enregistré.")
        return 0
    unrefreshed = ""
    for record in records:
        if record.damage:
            print(f"{record.label()}  {record.draw_id}  ENDOMMAGÉ : {record.damage} "
                  "(voir « lotas history --check »)")
            continue
        delivery = deliveries[record.draw_id]
        unrefreshed = unrefreshed or delivery.refresh_error_fr
        print(f"{record.label()}  {record.draw_id}  "
              f"{record.sizes.main} + {record.sizes.reserve}  {delivery.label_fr}")
    if unrefreshed:
        print(f"lotas: état des transmissions en attente non actualisé : {unrefreshed}",
              file=sys.stderr)
    return 0


def _deliveries(ctx: CommandContext, history: object, records: list, *, refresh: bool) -> dict:
    """Each draw's transmission state; the pending ones asked of their intermediary."""
    from lotas_core.transmission.credentials import Credentials
    from lotas_core.transmission.delivery import refresh_many, summarize

    if refresh and records:
        try:
            return refresh_many(ctx.lotas, ctx.settings, history, records, Credentials())
        except (LotasError, OSError) as exc:  # e.g. a read-only history: list what is stored
            reason = exc.message_fr if isinstance(exc, LotasError) else os_reason_fr(exc)
            stored = _deliveries(ctx, history, records, refresh=False)
            for delivery in stored.values():
                if delivery.pending:
                    delivery.refresh_error_fr = f"nouvel état non enregistré ({reason})"
            return stored
    return {record.draw_id: summarize(record.draw_id, history.transmissions(record.draw_id))
            for record in records}


def run_export(ctx: CommandContext, args: argparse.Namespace) -> int:
    from lotas_core.draws.exports import export, render
    from lotas_core.draws.service import open_history

    record = open_history(ctx.settings).get(args.draw_id)
    labels = ctx.lotas.funnel_labels(record.campaign_id)
    layout = ctx.lotas.row_layout(record.campaign_id, record.rows)
    if args.output is None:
        if args.format == "xlsx":
            raise UsageError(
                "Le format xlsx s'écrit dans un fichier : ajoutez --output tirage.xlsx.",
                "xlsx export needs --output",
            )
        emit(render(record, args.format, layout, labels).decode("utf-8"), None)
        return 0
    path = export(record, args.format, args.output, layout, labels)
    print(f"lotas: tirage {record.draw_id} exporté dans {path}", file=sys.stderr)
    return 0
