"""Why a workplace ranks where it does: feature contributions as plain sentences.

The reasons behind a score are the features whose TreeSHAP contribution raises it most
(LightGBM's ``pred_contrib``), with the workplace's own value. They are rendered for
people in Spanish (the inspectorate's language, the default) and English, e.g.
"3 violaciones de seguridad e higiene en los últimos 3 años".
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from models.feature_encoding import ColumnValues
from models.risk_model import RiskModel

LANGUAGES = ("es", "en")

CATEGORY_NAMES: dict[str, dict[str, str]] = {
    "safety_health": {"es": "seguridad e higiene", "en": "safety and health"},
    "working_conditions": {"es": "condiciones de trabajo", "en": "working conditions"},
    "subcontracting": {"es": "subcontratación", "en": "subcontracting"},
    "freedom_of_association": {"es": "libertad sindical", "en": "freedom of association"},
    "gender_discrimination": {"es": "discriminación de género", "en": "gender discrimination"},
}
CHANNEL_NAMES: dict[str, dict[str, str]] = {
    "phone": {"es": "por teléfono", "en": "by phone"},
    "web": {"es": "por internet", "en": "online"},
    "in_person": {"es": "en persona", "en": "in person"},
    "union_petition": {"es": "por petición sindical", "en": "by union petition"},
    "other": {"es": "por otros medios", "en": "by other channels"},
}
WINDOWS: dict[str, dict[str, str]] = {
    "90d": {"es": "en los últimos 90 días", "en": "in the last 90 days"},
    "1y": {"es": "en el último año", "en": "in the last year"},
    "3y": {"es": "en los últimos 3 años", "en": "in the last 3 years"},
    "ever": {"es": "en su historial", "en": "on record"},
}


@dataclass(frozen=True)
class Reason:
    feature: str
    contribution: float
    value: float | str | None

    def as_dict(self) -> dict[str, Any]:
        return {"feature": self.feature, "contribution": self.contribution, "value": self.value}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reason:
        return cls(str(data["feature"]), float(data["contribution"]), data.get("value"))


def top_reasons(
    model: RiskModel,
    features: pd.DataFrame | Mapping[str, ColumnValues],
    target: str = "any",
    count: int = 3,
    encoded: np.ndarray | None = None,
    threads: int | None = None,
) -> list[list[Reason]]:
    """For each row, the ``count`` features that raise its score most (positive only).

    ``features``: a frame, or its columns (then ``encoded`` is required); ``encoded``:
    ``model.encoded(features)``, if the caller has it; ``threads``: LightGBM's, as for
    :meth:`RiskModel.predict`."""
    if encoded is None:
        if not isinstance(features, pd.DataFrame):
            raise TypeError("top_reasons of feature columns needs their encoded matrix")
        encoded = model.encoded(features)
    contributions = model.contribution_matrix(encoded, target, threads)
    # a neutralised feature holds one value for everyone: no reason to tell a planner
    fixed = getattr(model, "neutral", {})
    names = model.encoder.columns
    kept = [j for j, name in enumerate(names) if name not in fixed]
    columns = [names[j] for j in kept]
    values = contributions[:, kept]
    masked = np.where(values > 0, values, -np.inf)
    count = min(count, len(columns))
    top = np.argsort(-masked, axis=1, kind="stable")[:, :count]
    rows = np.arange(len(top))[:, None]
    picked = np.round(values[rows, top], 4).tolist()
    raises = np.isfinite(masked[rows, top]).tolist()
    # one column at a time, as Python objects: reading a row of a wide mixed frame is slow
    own: dict[int, list[object]] = {
        int(c): np.asarray(features[columns[c]], dtype=object).tolist() for c in np.unique(top)
    }
    result: list[list[Reason]] = []
    for row, (picks, contribution, positive) in enumerate(
        zip(top.tolist(), picked, raises, strict=True)
    ):
        reasons = []
        for column, value, raising in zip(picks, contribution, positive, strict=True):
            if not raising:
                break
            reasons.append(Reason(columns[column], value, _plain(own[column][row])))
        result.append(reasons)
    return result


def _plain(value: object) -> float | str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        return round(float(value), 4)
    return str(value)


def _number(value: object) -> float | None:
    try:
        return None if value is None else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _count(value: object) -> str:
    number = _number(value)
    if number is None:
        return "0" if value is None else str(value)
    return f"{number:,.0f}"


def _money(value: object) -> str:
    number = _number(value)
    if number is None:
        return "$0" if value is None else str(value)
    return f"${number:,.0f}"


def _window_phrase(suffix: str, lang: str) -> str:
    return WINDOWS.get(suffix, {"es": "", "en": ""})[lang]


_PATTERNS: list[tuple[re.Pattern[str], Any]] = []


def _pattern(regex: str):
    def register(render):
        _PATTERNS.append((re.compile(f"^{regex}$"), render))
        return render

    return register


@_pattern(r"(?P<c>[a-z_]+?)_violations_(?P<w>1y|3y|ever)")
def _category_violations(m, v, lang):
    cat = CATEGORY_NAMES.get(m["c"], {"es": m["c"], "en": m["c"]})[lang]
    w = _window_phrase(m["w"], lang)
    if lang == "es":
        return f"{_count(v)} violaciones de {cat} {w}"
    return f"{_count(v)} {cat} violations {w}"


@_pattern(r"(?P<c>[a-z_]+?)_inspected_(?P<w>1y|3y|ever)")
def _category_inspected(m, v, lang):
    cat = CATEGORY_NAMES.get(m["c"], {"es": m["c"], "en": m["c"]})[lang]
    w = _window_phrase(m["w"], lang)
    if lang == "es":
        return f"{_count(v)} inspecciones de {cat} {w}"
    return f"{_count(v)} inspections covering {cat} {w}"


@_pattern(r"violations_(?P<w>1y|3y|ever)")
def _violations(m, v, lang):
    w = _window_phrase(m["w"], lang)
    if lang == "es":
        return f"{_count(v)} inspecciones con violaciones {w}"
    return f"{_count(v)} inspections that found violations {w}"


@_pattern(r"inspections_(?P<w>1y|3y|ever)")
def _inspections(m, v, lang):
    w = _window_phrase(m["w"], lang)
    return f"{_count(v)} inspecciones {w}" if lang == "es" else f"{_count(v)} inspections {w}"


@_pattern(r"sanctions_(?P<w>1y|3y|ever)")
def _sanctions(m, v, lang):
    w = _window_phrase(m["w"], lang)
    if lang == "es":
        return f"multas propuestas por {_money(v)} {w}"
    return f"fines of {_money(v)} proposed {w}"


@_pattern(r"complaints_via_(?P<ch>[a-z_]+)_(?P<w>90d|1y|3y)")
def _complaints_channel(m, v, lang):
    ch = CHANNEL_NAMES.get(m["ch"], {"es": m["ch"], "en": m["ch"]})[lang]
    w = _window_phrase(m["w"], lang)
    return (
        f"{_count(v)} denuncias {ch} {w}" if lang == "es" else (f"{_count(v)} complaints {ch} {w}")
    )


@_pattern(r"complaints_(?P<c>[a-z_]+)_(?P<w>90d|1y|3y)")
def _complaints_category(m, v, lang):
    cat = CATEGORY_NAMES.get(m["c"], {"es": m["c"], "en": m["c"]})[lang]
    w = _window_phrase(m["w"], lang)
    if lang == "es":
        return f"{_count(v)} denuncias sobre {cat} {w}"
    return f"{_count(v)} complaints about {cat} {w}"


@_pattern(r"complaints_(?P<w>90d|1y|3y)")
def _complaints(m, v, lang):
    w = _window_phrase(m["w"], lang)
    return f"{_count(v)} denuncias {w}" if lang == "es" else f"{_count(v)} complaints {w}"


@_pattern(r"days_since_(?P<what>inspection|violation|complaint)")
def _days_since(m, v, lang):
    what = {
        "inspection": ("inspección", "inspection"),
        "violation": ("violación encontrada", "violation found"),
        "complaint": ("denuncia", "complaint"),
    }[m["what"]]
    if v is None:
        return f"sin {what[0]} registrada" if lang == "es" else f"no {what[1]} on record"
    if lang == "es":
        return f"última {what[0]} hace {_count(v)} días"
    return f"last {what[1]} {_count(v)} days ago"


@_pattern(r"last_inspection_violation")
def _last_outcome(m, v, lang):
    if v is None:
        return "nunca inspeccionado" if lang == "es" else "never inspected"
    found = (_number(v) or 0.0) >= 0.5
    if lang == "es":
        return (
            "la última inspección encontró violaciones"
            if found
            else ("la última inspección no encontró violaciones")
        )
    return (
        "the last inspection found violations"
        if found
        else ("the last inspection found no violation")
    )


@_pattern(r"peer_rate_(?P<rest>.+)")
def _peer_rate(m, v, lang):
    share = "?" if _number(v) is None else f"{_number(v):.0%}"
    if lang == "es":
        return f"{share} de las inspecciones a centros similares encontraron violaciones"
    return f"{share} of inspections of similar workplaces found violations"


_FIXED: dict[str, tuple[str, str]] = {
    "random_inspections_ever": (
        "{n} inspecciones aleatorias en su historial",
        "{n} random inspections on record",
    ),
    "random_violations_ever": (
        "{n} inspecciones aleatorias con violaciones",
        "{n} random inspections that found violations",
    ),
    "sanction_max_ever": ("multa máxima propuesta: {money}", "largest fine proposed: {money}"),
    "remediations_open": ("{n} planes de remediación abiertos", "{n} open remediation plans"),
    "remediations_ever": (
        "{n} planes de remediación en su historial",
        "{n} remediation plans on record",
    ),
    "rrm_ever": (
        "{n} casos del Mecanismo Laboral de Respuesta Rápida",
        "{n} USMCA Rapid Response cases",
    ),
    "employees": ("{n} trabajadores", "{n} workers"),
    "size_band": ("tamaño: {value}", "size: {value}"),
    "state": ("entidad federativa {value}", "state {value}"),
    "municipality": ("municipio {value}", "municipality {value}"),
    "sector2": ("sector SCIAN {value}", "SCIAN sector {value}"),
    "sector3": ("subsector SCIAN {value}", "SCIAN subsector {value}"),
    "sector4": ("rama SCIAN {value}", "SCIAN industry group {value}"),
    "latitude": ("ubicación: latitud {value}", "location: latitude {value}"),
    "longitude": ("ubicación: longitud {value}", "location: longitude {value}"),
}


#: Directory attributes whose absence is itself a reason (a missing headcount can raise
#: risk): said as "not recorded", never as a zero.
_UNRECORDED: dict[str, tuple[str, str]] = {
    "employees": ("plantilla", "headcount"),
    "size_band": ("tamaño", "size"),
    "age_days": ("fecha de registro", "registration date"),
    "state": ("entidad federativa", "state"),
    "municipality": ("municipio", "municipality"),
    "sector2": ("sector SCIAN", "SCIAN sector"),
    "sector3": ("subsector SCIAN", "SCIAN subsector"),
    "sector4": ("rama SCIAN", "SCIAN industry group"),
    "latitude": ("ubicación", "location"),
    "longitude": ("ubicación", "location"),
}


#: What a sentence that starts with a count of one says instead of its plural: the first
#: plural in the sentence is the counted noun (phrases, as Spanish adjectives agree with it).
_SINGULAR: dict[str, tuple[tuple[str, str], ...]] = {
    "es": (
        ("inspecciones aleatorias", "inspección aleatoria"),
        ("planes de remediación abiertos", "plan de remediación abierto"),
        ("planes", "plan"),
        ("violaciones", "violación"),
        ("inspecciones", "inspección"),
        ("denuncias", "denuncia"),
        ("casos", "caso"),
        ("trabajadores", "trabajador"),
        ("años", "año"),
    ),
    "en": (
        ("violations", "violation"),
        ("inspections", "inspection"),
        ("complaints", "complaint"),
        ("plans", "plan"),
        ("cases", "case"),
        ("workers", "worker"),
        ("years", "year"),
    ),
}


def _singular(text: str, lang: str) -> str:
    """A count of one takes the singular: "1 violación de …", not "1 violaciones de …"."""
    if not text.startswith("1 "):
        return text
    words = f" {text} "
    found = [
        (words.find(f" {plural} "), -len(plural), plural, singular)
        for plural, singular in _SINGULAR[lang]
        if f" {plural} " in words
    ]
    if not found:
        return text
    at, _, plural, singular = min(found)  # the counted noun is the first plural, longest phrase
    return (words[:at] + f" {singular} " + words[at + len(plural) + 2 :]).strip()


def sentence(reason: Reason, lang: str = "es") -> str:
    """The reason in plain words, in ``lang`` ("es" or "en")."""
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, not {lang!r}")
    return _singular(_plural_sentence(reason, lang), lang)


def _plural_sentence(reason: Reason, lang: str) -> str:
    name, value = reason.feature, reason.value
    if value is None and (name in _UNRECORDED or name.startswith("attr_")):
        attribute = name.removeprefix("attr_")
        es, en = _UNRECORDED.get(name, (f"atributo {attribute}", attribute))
        return f"{es}: sin registro" if lang == "es" else f"{en}: not recorded"
    if name in _FIXED:
        template = _FIXED[name][LANGUAGES.index(lang)]
        return template.format(
            n=_count(value), money=_money(value), value="?" if value is None else value
        )
    if name == "age_days":
        days = _number(value)
        years = "?" if days is None else f"{days / 365.25:.0f}"
        return f"{years} años en el registro" if lang == "es" else f"{years} years registered"
    for pattern, render in _PATTERNS:
        match = pattern.match(name)
        if match:
            return render(match, value, lang)
    shown = "?" if value is None else value
    if name.startswith("attr_"):
        attribute = name.removeprefix("attr_")
        return f"atributo {attribute}: {shown}" if lang == "es" else f"{attribute}: {shown}"
    return f"{name}: {shown}"


def reasons_json(reasons: list[Reason]) -> str:
    return json.dumps([r.as_dict() for r in reasons], ensure_ascii=False)
