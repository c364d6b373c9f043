"""One French table of parse-report reasons, shared by the CLI, the JSON and the screen."""

from __future__ import annotations

from lotas_core.reading import reasons
from lotas_core.reading.fixedwidth import REASONS
from lotas_plugins.psy_sma_2021.layouts import RAA_P09, RPS_P08


def test_every_reason_and_warning_of_the_layouts_has_a_french_label():
    assert REASONS == reasons.BLOCKING_REASONS == ("length", "format", "finess", "date", "ipp")
    keys = set(REASONS) | {why for layout in (RAA_P09, RPS_P08)
                           for _, why in (*layout.date_checks, *layout.warning_checks)}
    assert keys == set(reasons.REASON_LABELS_FR)
    assert {why for layout in (RAA_P09, RPS_P08) for _, why in layout.warning_checks} == set(
        reasons.WARNINGS
    )
    assert reasons.reason_label("something_new") == "something_new"


def test_report_read_back_from_the_history_is_shown_in_check_order():
    stored = {"files": {"raa": {
        "member": "x.rpa.txt", "lines_read": 9, "lines_kept": 5,
        "skipped": {"date": 1, "finess": 1, "ipp": 1, "length": 1},  # sorted keys
        "kept_with_warning": {"birth_date": 2},
        "first_lines": {"date": [4], "finess": [3], "ipp": [5], "length": [2],
                        "birth_date": [6, 7]},
    }}, "warnings": ["Aucun fichier RPS"]}
    assert reasons.report_lines(stored) == [
        "RAA « x.rpa.txt » : 9 lignes lues, 5 gardées, 4 rejetées",
        "  rejetées, longueur incorrecte : 1 (ligne 2)",
        "  rejetées, autre FINESS : 1 (ligne 3)",
        "  rejetées, date d'acte ou de fin de séquence invalide : 1 (ligne 4)",
        "  rejetées, IPP vide : 1 (ligne 5)",
        "  gardées avec avertissement, date de naissance invalide (AGE vide) : 2 (lignes 6, 7)",
        "Avertissement : Aucun fichier RPS",
    ]
    assert list(reasons.reason_labels(stored)) == ["length", "finess", "date", "ipp", "birth_date"]


def test_more_lines_than_shown_end_with_an_ellipsis():
    info = {"lines_read": 8, "lines_kept": 0, "skipped": {"finess": 8},
            "first_lines": {"finess": [1, 2, 3, 4, 5]}}
    assert reasons.file_report_lines("raa", info)[1] == (
        "  rejetées, autre FINESS : 8 (lignes 1, 2, 3, 4, 5…)"
    )


def test_the_screen_uses_the_core_table(monkeypatch):
    from lotas_tui.formatting import parse_report_lines

    monkeypatch.setitem(reasons.REASON_LABELS_FR, "ipp", "identifiant manquant")
    monkeypatch.setitem(reasons.REASON_LABELS_FR, "birth_date", "naissance illisible")
    lines = parse_report_lines({"files": {"raa": {
        "member": "x.rpa.txt", "lines_read": 3, "lines_kept": 2, "skipped": {"ipp": 1},
        "kept_with_warning": {"birth_date": 1},
    }}})
    assert "    identifiant manquant : 1" in lines
    assert "    gardées avec avertissement, naissance illisible : 1" in lines
