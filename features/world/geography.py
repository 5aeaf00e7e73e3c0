"""Mexico's 32 states (INEGI codes), where workplaces are, and which office inspects them.

Weights approximate each state's share of economic units in the national directory
(DENUE): Estado de México, Ciudad de México and Jalisco lead. Centroids are rough
state centres; municipality counts are close to the real ones (capped where a state
has hundreds of tiny municipalities, which would only thin the data).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class State:
    code: str
    name: str
    weight: float  # percent of economic units, roughly
    latitude: float
    longitude: float
    municipalities: int
    spread: float  # degrees: how far workplaces lie from the centroid


STATES: tuple[State, ...] = (
    State("01", "Aguascalientes", 1.1, 21.88, -102.29, 11, 0.15),
    State("02", "Baja California", 2.6, 31.0, -115.9, 7, 0.8),
    State("03", "Baja California Sur", 0.7, 25.4, -111.6, 5, 0.9),
    State("04", "Campeche", 0.7, 19.0, -90.4, 13, 0.6),
    State("05", "Coahuila", 2.1, 27.3, -102.0, 38, 0.9),
    State("06", "Colima", 0.7, 19.1, -103.9, 10, 0.2),
    State("07", "Chiapas", 3.6, 16.5, -92.5, 124, 0.7),
    State("08", "Chihuahua", 2.5, 28.6, -106.1, 67, 1.1),
    State("09", "Ciudad de México", 9.0, 19.38, -99.13, 16, 0.07),
    State("10", "Durango", 1.3, 24.6, -104.8, 39, 0.9),
    State("11", "Guanajuato", 5.3, 20.9, -101.0, 46, 0.4),
    State("12", "Guerrero", 3.3, 17.6, -99.9, 85, 0.6),
    State("13", "Hidalgo", 2.5, 20.5, -98.9, 84, 0.4),
    State("14", "Jalisco", 7.1, 20.6, -103.4, 125, 0.6),
    State("15", "México", 12.5, 19.35, -99.6, 125, 0.35),
    State("16", "Michoacán", 4.6, 19.2, -101.9, 113, 0.6),
    State("17", "Morelos", 1.9, 18.7, -99.1, 36, 0.2),
    State("18", "Nayarit", 1.0, 21.8, -104.8, 20, 0.4),
    State("19", "Nuevo León", 3.4, 25.6, -99.9, 51, 0.7),
    State("20", "Oaxaca", 3.9, 17.1, -96.7, 570, 0.7),
    State("21", "Puebla", 5.8, 19.0, -97.9, 217, 0.5),
    State("22", "Querétaro", 1.5, 20.6, -100.0, 18, 0.3),
    State("23", "Quintana Roo", 1.2, 19.6, -88.0, 11, 0.6),
    State("24", "San Luis Potosí", 2.0, 22.6, -100.4, 58, 0.7),
    State("25", "Sinaloa", 2.1, 25.0, -107.5, 20, 0.8),
    State("26", "Sonora", 2.1, 29.3, -110.3, 72, 1.1),
    State("27", "Tabasco", 1.4, 18.0, -92.6, 17, 0.4),
    State("28", "Tamaulipas", 2.4, 24.3, -98.8, 43, 0.9),
    State("29", "Tlaxcala", 1.2, 19.4, -98.2, 60, 0.15),
    State("30", "Veracruz", 5.6, 19.5, -96.9, 212, 0.9),
    State("31", "Yucatán", 2.2, 20.7, -89.1, 106, 0.5),
    State("32", "Zacatecas", 1.2, 22.8, -102.6, 58, 0.7),
)

STATE_CODES: tuple[str, ...] = tuple(s.code for s in STATES)
STATE_WEIGHTS: np.ndarray = np.array([s.weight for s in STATES]) / sum(s.weight for s in STATES)


def draw_states(rng: np.random.Generator, n: int) -> np.ndarray:
    """State index (0..31) of each workplace, by share of economic units."""
    return rng.choice(len(STATES), size=n, p=STATE_WEIGHTS).astype(np.int8)


def draw_municipalities(rng: np.random.Generator, state: np.ndarray) -> np.ndarray:
    """Municipality number (1-based) within the state; a few big municipalities hold most units."""
    municipality = np.empty(len(state), dtype=np.int16)
    for index, spec in enumerate(STATES):
        rows = np.flatnonzero(state == index)
        ranks = np.arange(1, spec.municipalities + 1)
        weights = 1.0 / ranks
        municipality[rows] = 1 + rng.choice(
            spec.municipalities, size=len(rows), p=weights / weights.sum()
        )
    return municipality


def municipality_codes(state: np.ndarray, municipality: np.ndarray) -> np.ndarray:
    """INEGI-style five-digit codes, e.g. "14039": state code then municipality number."""
    return (state.astype(np.int32) + 1) * 1000 + municipality


def draw_coordinates(
    rng: np.random.Generator, state: np.ndarray, municipality: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude: around a municipality seat that lies near the state centroid."""
    n_codes = 33_000
    seat_lat = rng.normal(0.0, 1.0, n_codes)
    seat_lon = rng.normal(0.0, 1.0, n_codes)
    codes = municipality_codes(state, municipality)
    centre_lat = np.array([s.latitude for s in STATES])[state]
    centre_lon = np.array([s.longitude for s in STATES])[state]
    spread = np.array([s.spread for s in STATES])[state]
    latitude = centre_lat + spread * seat_lat[codes] + rng.normal(0.0, 0.02, len(state))
    longitude = centre_lon + spread * seat_lon[codes] + rng.normal(0.0, 0.02, len(state))
    return np.round(latitude, 5), np.round(longitude, 5)


def offices_per_state(employers: int) -> np.ndarray:
    """How many inspection offices each state has: one, plus more for the biggest states."""
    extra = np.floor(STATE_WEIGHTS * 100 / 4.0).astype(np.int32)  # one more per 4% of units
    return 1 + extra if employers >= 2_000 else np.ones(len(STATES), dtype=np.int32)


def office_names(state_index: int, count: int) -> list[str]:
    """ "OF-14" for a state's main office, "OF-14B", "OF-14C"... for the others."""
    code = STATES[state_index].code
    return [f"OF-{code}" + ("" if k == 0 else chr(ord("A") + k)) for k in range(count)]
