"""Reasons: the features that raise a score, in plain Spanish and English."""

from __future__ import annotations

import json

import numpy as np
import pytest

from calle.settings import MEXICO_CATEGORIES
from features.matrix import feature_specs
from models.explanations import Reason, reasons_json, sentence, top_reasons
from models.risk_model import SERVING_THREADS

CATS = list(MEXICO_CATEGORIES)


@pytest.mark.parametrize(
    "feature, value, es, en",
    [
        (
            "safety_health_violations_3y",
            3.0,
            "3 violaciones de seguridad e higiene en los últimos 3 años",
            "3 safety and health violations in the last 3 years",
        ),
        (
            "complaints_freedom_of_association_90d",
            2.0,
            "2 denuncias sobre libertad sindical en los últimos 90 días",
            "2 complaints about freedom of association in the last 90 days",
        ),
        (
            "complaints_via_union_petition_1y",
            1.0,
            "1 denuncia por petición sindical en el último año",
            "1 complaint by union petition in the last year",
        ),
        (
            "days_since_violation",
            None,
            "sin violación encontrada registrada",
            "no violation found on record",
        ),
        (
            "last_inspection_violation",
            1.0,
            "la última inspección encontró violaciones",
            "the last inspection found violations",
        ),
        (
            "peer_rate_state_sector2_size",
            0.62,
            "62% de las inspecciones a centros similares encontraron violaciones",
            "62% of inspections of similar workplaces found violations",
        ),
        (
            "rrm_ever",
            1.0,
            "1 caso del Mecanismo Laboral de Respuesta Rápida",
            "1 USMCA Rapid Response case",
        ),
        (
            "sanctions_1y",
            125000.0,
            "multas propuestas por $125,000 en el último año",
            "fines of $125,000 proposed in the last year",
        ),
        ("attr_repse_registered", 1.0, "atributo repse_registered: 1.0", "repse_registered: 1.0"),
    ],
)
def test_sentences_in_both_languages(feature, value, es, en):
    reason = Reason(feature, 0.3, value)
    assert sentence(reason, "es") == es
    assert sentence(reason, "en") == en


def test_every_catalogued_feature_has_its_own_sentence():
    for spec in feature_specs(CATS, {}):
        text = sentence(Reason(spec.name, 0.1, 2.0), "es")
        assert spec.name not in text, f"{spec.name} falls back to its raw name: {text}"


PLURALS = {
    "es": {"violaciones", "inspecciones", "denuncias", "casos", "planes", "trabajadores", "años"},
    "en": {"violations", "inspections", "complaints", "cases", "plans", "workers", "years"},
}


@pytest.mark.parametrize("lang", ["es", "en"])
def test_a_count_of_one_is_said_in_the_singular(lang):
    """Said "1 violaciones", a reason reads as a bug to an inspector (a newcomer found it)."""
    for spec in feature_specs(CATS, {}):
        one = sentence(Reason(spec.name, 0.1, 1.0), lang)
        if not one.startswith("1 "):
            continue
        two = sentence(Reason(spec.name, 0.1, 2.0), lang)
        plurals = [len([w for w in t.split() if w in PLURALS[lang]]) for t in (one, two)]
        assert plurals[0] == plurals[1] - 1, (one, two)  # the counted noun, and only it


@pytest.mark.parametrize("lang", ["es", "en"])
@pytest.mark.parametrize("value", [None, 0.0, 7.5, -3.0, "medium", "05", "", "336310"])
def test_any_value_of_any_feature_renders_without_error(lang, value):
    """Categorical values reach the same templates as counts (found by fuzzing the API)."""
    for spec in feature_specs(CATS, {"attr_union": "categorical", "attr_score": "numeric"}):
        assert sentence(Reason(spec.name, 0.2, value), lang)


def test_categorical_reasons_read_naturally():
    assert sentence(Reason("size_band", 0.2, "medium"), "es") == "tamaño: medium"
    assert sentence(Reason("sector2", 0.2, "56"), "en") == "SCIAN sector 56"


@pytest.mark.parametrize(
    ("feature", "es", "en"),
    [
        ("employees", "plantilla: sin registro", "headcount: not recorded"),
        ("size_band", "tamaño: sin registro", "size: not recorded"),
        ("attr_women_share", "atributo women_share: sin registro", "women_share: not recorded"),
    ],
)
def test_a_missing_attribute_is_said_to_be_unrecorded_never_zero(feature, es, en):
    """Most headcounts are missing, and a missing one can raise risk: "0 workers" would lie."""
    reason = Reason(feature, 0.3, None)
    assert (sentence(reason, "es"), sentence(reason, "en")) == (es, en)


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="language"):
        sentence(Reason("rrm_ever", 0.1, 1.0), "fr")


def test_top_reasons_are_the_largest_positive_contributions(
    small_world_model, small_world_population
):
    model = small_world_model
    population = small_world_population.head(300)
    contributions = model.contributions(population)
    reasons = top_reasons(model, population)
    assert len(reasons) == len(population)
    assert any(reasons)
    for row, row_reasons in enumerate(reasons):
        values = [r.contribution for r in row_reasons]
        assert values == sorted(values, reverse=True) and all(v > 0 for v in values)
        assert len(row_reasons) <= 3
        positives = np.sort(contributions.iloc[row].drop("bias").to_numpy())[::-1]
        assert np.allclose(values, positives[: len(values)].round(4), atol=1e-4)
    first = next(r for r in reasons if r)
    assert json.loads(reasons_json(first))[0]["feature"] == first[0].feature


def test_reasons_of_feature_columns_on_one_thread_are_those_of_the_frame(
    small_world_model, small_world_population
):
    """The service explains from a workplace's columns with one LightGBM thread per request:
    the same reasons as from the population's frame with the training's threads."""
    model = small_world_model
    population = small_world_population.head(200)
    columns = {
        name: (
            population[name].astype("string").to_numpy(dtype=object, na_value=None)
            if name in model.encoder.categorical
            else population[name].to_numpy(dtype=np.float64, na_value=np.nan)
        )
        for name in model.encoded_inputs
    }
    encoded = model.encoded_columns(columns, len(population))
    np.testing.assert_array_equal(encoded, model.encoded(population))
    assert top_reasons(model, columns, encoded=encoded, threads=SERVING_THREADS) == (
        top_reasons(model, population)
    )
    with pytest.raises(TypeError, match="encoded"):
        top_reasons(model, columns)
