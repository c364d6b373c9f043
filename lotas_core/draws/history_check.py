"""``lotas history --check``: find edits, deletions and reorderings in the history database.

Messages are French, name the draw id and what differs, and never quote a stored value (rows hold
IPPs): a field name, a row number, a chain position or a hash is all they show.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from lotas_core.draws.history_entry import GENESIS_HASH, entry_hash, field_digests

_COLUMNS = ("draw_id", "finess", "campaign_id", "created_at", "prev_hash")
#: Field names of an entry; any other name found in an edited entry is not repeated.
KNOWN_FIELDS = frozenset((
    "format", "draw_id", "created_at", "finess", "financing", "campaign_id", "archive_name",
    "archive_sha256", "archive_size", "sizes", "funnel", "funnel_order", "parse_report",
    "algorithm", "seed", "population_digest", "rows", "notice", "chain_pos", "prev_hash",
    "provenance",
))


def check_history(conn: sqlite3.Connection) -> list[str]:
    """All problems of the database, in chain order."""
    problems: list[str] = []
    draws = conn.execute(
        "SELECT seq, draw_id, finess, campaign_id, created_at, entry_json, prev_hash, entry_hash"
        " FROM draws ORDER BY seq"
    ).fetchall()
    chains: dict[tuple[str, str], list[tuple[str, dict[str, Any] | None, str, str]]] = {}
    for _seq, draw_id, finess, campaign_id, created_at, entry_json, prev_col, hash_col in draws:
        columns = dict(zip(_COLUMNS, (draw_id, finess, campaign_id, created_at, prev_col),
                           strict=True))
        content, found = _check_entry(draw_id, columns, entry_json, hash_col)
        problems.extend(found)
        chains.setdefault((finess, campaign_id), []).append((draw_id, content, prev_col, hash_col))
    for (finess, campaign_id), entries in chains.items():
        problems.extend(_check_chain(finess, campaign_id, entries))
    problems.extend(_check_heads(conn, chains))
    problems.extend(_check_sequence(conn, "draws", [row[0] for row in draws], "tirage"))
    problems.extend(_check_transmissions(conn, {row[1]: row[7] for row in draws}))
    return problems


def check_single_entry(conn: sqlite3.Connection, draw_id: str) -> list[str]:
    """Problems of one draw entry (hash, columns), without walking the chains."""
    row = conn.execute(
        "SELECT draw_id, finess, campaign_id, created_at, prev_hash, entry_json, entry_hash"
        " FROM draws WHERE draw_id = ?",
        (draw_id,),
    ).fetchone()
    if row is None:
        return [f"Tirage {draw_id} : absent de l'historique."]
    columns = dict(zip(_COLUMNS, row[:5], strict=True))
    return _check_entry(draw_id, columns, row[5], row[6])[1]


def _check_entry(
    draw_id: str, columns: dict[str, Any], entry_json: str, hash_col: str
) -> tuple[dict[str, Any] | None, list[str]]:
    try:
        content = json.loads(entry_json)
        if not isinstance(content, dict):
            raise ValueError("not an object")
    except ValueError:
        return None, [f"Tirage {draw_id} : contenu de l'entrée illisible (JSON invalide)."]
    problems = []
    recomputed = entry_hash(content)
    if recomputed != hash_col:
        problems.append(
            f"Tirage {draw_id} : entrée modifiée après enregistrement ({_what_changed(content)}) ;"
            f" empreinte enregistrée {hash_col[:16]}…, recalculée {recomputed[:16]}…."
        )
    for name, value in columns.items():
        if content.get(name) != value:
            problems.append(
                f"Tirage {draw_id} : la colonne « {name} » ne correspond plus au contenu de "
                "l'entrée."
            )
    return content, problems


def _what_changed(content: dict[str, Any]) -> str:
    """Which fields and rows differ from the digests recorded inside the entry."""
    recorded = content.get("digests")
    if not isinstance(recorded, dict):
        return "empreintes internes absentes"
    body = {key: value for key, value in content.items() if key != "digests"}
    now = field_digests(body)
    old_fields = recorded.get("fields", {})
    changed = sorted(
        set(now["fields"]) ^ set(old_fields)
        | {key for key in now["fields"] if old_fields.get(key) not in (None, now["fields"][key])}
    )
    parts = []
    rows_old, rows_now = recorded.get("rows", []), now["rows"]
    if "rows" in changed:
        changed.remove("rows")
        lines = [
            str(i + 1) for i, h in enumerate(rows_now) if i >= len(rows_old) or rows_old[i] != h
        ]
        if len(rows_old) != len(rows_now):
            parts.append(f"nombre de lignes {len(rows_old)} → {len(rows_now)}")
        if lines:
            more = " …" if len(lines) > 10 else ""
            parts.append("ligne(s) NUMTAS " + ", ".join(lines[:10]) + more)
    if changed:
        # names come from the (edited) database: only known field names are repeated
        named = sorted({key if key in KNOWN_FIELDS else "champ inconnu" for key in changed})
        parts.insert(0, "champ(s) " + ", ".join(named))
    return "; ".join(parts) or "empreintes internes modifiées"


def _check_chain(
    finess: str, campaign_id: str, entries: list[tuple[str, dict[str, Any] | None, str, str]]
) -> list[str]:
    problems = []
    prev_hash = GENESIS_HASH
    for index, (draw_id, content, prev_col, hash_col) in enumerate(entries, start=1):
        position = content.get("chain_pos") if content else None
        if content is not None and position != index:
            problems.append(
                f"Tirage {draw_id} : enregistré en position {position} de la chaîne "
                f"{finess}/{campaign_id}, trouvé en position {index} (entrée supprimée ou ordre "
                "modifié)."
            )
        if prev_col != prev_hash:
            problems.append(
                f"Tirage {draw_id} : le lien vers l'entrée précédente de la chaîne "
                f"{finess}/{campaign_id} est rompu (entrée supprimée, insérée ou déplacée)."
            )
        prev_hash = hash_col
    return problems


def _check_heads(
    conn: sqlite3.Connection, chains: dict[tuple[str, str], list[tuple[Any, ...]]]
) -> list[str]:
    problems = []
    heads = {
        (finess, campaign_id): (length, head)
        for finess, campaign_id, length, head in conn.execute(
            "SELECT finess, campaign_id, length, head_hash FROM chains"
        )
    }
    for key in sorted(set(heads) | set(chains)):
        entries = chains.get(key, [])
        length, head = heads.get(key, (0, GENESIS_HASH))
        last_hash = entries[-1][3] if entries else GENESIS_HASH
        label = f"{key[0]}/{key[1]}"
        if length != len(entries):
            problems.append(
                f"Chaîne {label} : {length} tirage(s) enregistré(s), {len(entries)} présent(s) "
                "(entrée supprimée ou ajoutée hors de lotas)."
            )
        elif head != last_hash:
            last = entries[-1][0] if entries else "-"
            problems.append(
                f"Chaîne {label} : le dernier tirage ({last}) n'est pas celui qui a été "
                "enregistré en dernier (entrée remplacée)."
            )
    return problems


def _check_sequence(conn: sqlite3.Connection, table: str, seqs: list[int], what: str) -> list[str]:
    """AUTOINCREMENT numbers never come back: a gap or a lower maximum means a deletion."""
    problems = []
    missing = sorted(set(range(1, (max(seqs) if seqs else 0) + 1)) - set(seqs))
    if missing:
        shown = ", ".join(str(n) for n in missing[:10])
        problems.append(f"Entrée(s) de {what} n° {shown} supprimée(s) de l'historique.")
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).fetchone()
    highest = int(row[0]) if row else 0
    if highest > (max(seqs) if seqs else 0):
        problems.append(
            f"Dernière(s) entrée(s) de {what} (n° {(max(seqs) if seqs else 0) + 1} à {highest}) "
            "supprimée(s) de l'historique."
        )
    return problems


def _check_transmissions(conn: sqlite3.Connection, draw_hashes: dict[str, str]) -> list[str]:
    problems = []
    rows = conn.execute(
        "SELECT seq, draw_id, entry_json, prev_hash, entry_hash FROM transmissions ORDER BY seq"
    ).fetchall()
    last: dict[str, str] = {}
    for _seq, draw_id, entry_json, prev_col, hash_col in rows:
        if draw_id not in draw_hashes:
            problems.append(f"Transmission du tirage {draw_id} : ce tirage est absent.")
            continue
        expected = last.get(draw_id, draw_hashes[draw_id])
        try:
            content = json.loads(entry_json)
            recomputed = entry_hash(content)
        except (ValueError, TypeError):
            content, recomputed = {}, ""
        if recomputed != hash_col:
            problems.append(
                f"Transmission du tirage {draw_id} : reçu modifié après enregistrement."
            )
        if prev_col != expected or content.get("prev_hash") != prev_col:
            problems.append(
                f"Transmission du tirage {draw_id} : chaînage rompu (reçu supprimé, déplacé "
                "ou tirage modifié)."
            )
        last[draw_id] = hash_col
    problems.extend(_check_sequence(conn, "transmissions", [row[0] for row in rows],
                                    "transmission"))
    return problems
