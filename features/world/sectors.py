"""SCIAN activity codes with a realistic mix, and the auto-parts cluster.

Retail and services are most numerous, manufacturing is about one in ten units
(mostly bakeries and tortillerías), garment (315) and mining (21) are present, and
auto parts (3363) concentrate in the northern and Bajío industrial states.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from features.world.geography import STATES


class Group(IntEnum):
    """Coarse kinds of activity that drive risk, size and traits."""

    RETAIL = 0
    WHOLESALE = 1
    FOOD_SERVICE = 2
    SERVICES = 3
    STAFFING = 4  # cleaning, security, personnel supply: where outsourcing lives
    TRANSPORT = 5
    CONSTRUCTION = 6
    MANUFACTURING = 7
    GARMENT = 8
    AUTO_PARTS = 9
    MINING = 10


@dataclass(frozen=True)
class Sector:
    code: str
    label: str  # first word(s) of a display name
    weight: float
    group: Group


G = Group
SECTORS: tuple[Sector, ...] = (
    Sector("461110", "Abarrotes", 13.0, G.RETAIL),
    Sector("461121", "Carnicería", 2.0, G.RETAIL),
    Sector("461130", "Frutas y Verduras", 2.5, G.RETAIL),
    Sector("461190", "Alimentos", 2.0, G.RETAIL),
    Sector("461213", "Agua Purificada", 2.0, G.RETAIL),
    Sector("462112", "Minisúper", 1.5, G.RETAIL),
    Sector("463211", "Boutique", 4.0, G.RETAIL),
    Sector("464111", "Farmacia", 2.0, G.RETAIL),
    Sector("465311", "Papelería", 3.0, G.RETAIL),
    Sector("466111", "Mueblería", 1.0, G.RETAIL),
    Sector("467111", "Ferretería", 2.5, G.RETAIL),
    Sector("468211", "Refaccionaria", 2.0, G.RETAIL),
    Sector("469110", "Tienda en Línea", 0.5, G.RETAIL),
    Sector("431110", "Distribuidora", 1.0, G.WHOLESALE),
    Sector("433410", "Comercializadora", 0.5, G.WHOLESALE),
    Sector("434211", "Materiales", 0.5, G.WHOLESALE),
    Sector("722511", "Restaurante", 2.0, G.FOOD_SERVICE),
    Sector("722513", "Cocina Económica", 3.0, G.FOOD_SERVICE),
    Sector("722514", "Cafetería", 2.5, G.FOOD_SERVICE),
    Sector("722517", "Taquería", 3.0, G.FOOD_SERVICE),
    Sector("722412", "Bar", 1.0, G.FOOD_SERVICE),
    Sector("721111", "Hotel", 0.8, G.SERVICES),
    Sector("812110", "Estética", 4.0, G.SERVICES),
    Sector("811111", "Taller Mecánico", 3.5, G.SERVICES),
    Sector("812210", "Lavandería", 1.0, G.SERVICES),
    Sector("811410", "Reparaciones", 1.0, G.SERVICES),
    Sector("621111", "Consultorio", 2.5, G.SERVICES),
    Sector("611111", "Colegio", 1.5, G.SERVICES),
    Sector("541110", "Despacho Jurídico", 1.0, G.SERVICES),
    Sector("541211", "Despacho Contable", 1.0, G.SERVICES),
    Sector("541940", "Veterinaria", 0.5, G.SERVICES),
    Sector("624411", "Guardería", 0.6, G.SERVICES),
    Sector("713943", "Gimnasio", 0.6, G.SERVICES),
    Sector("813210", "Asociación", 1.5, G.SERVICES),
    Sector("522110", "Sucursal Bancaria", 0.5, G.SERVICES),
    Sector("561330", "Servicios de Personal", 0.4, G.STAFFING),
    Sector("561610", "Seguridad Privada", 0.3, G.STAFFING),
    Sector("561720", "Limpieza", 0.4, G.STAFFING),
    Sector("484111", "Transportes", 0.6, G.TRANSPORT),
    Sector("493111", "Almacenes", 0.2, G.TRANSPORT),
    Sector("236111", "Constructora", 0.6, G.CONSTRUCTION),
    Sector("238210", "Instalaciones", 0.4, G.CONSTRUCTION),
    Sector("311812", "Panadería", 3.0, G.MANUFACTURING),
    Sector("311830", "Tortillería", 2.8, G.MANUFACTURING),
    Sector("312112", "Purificadora", 0.5, G.MANUFACTURING),
    Sector("323111", "Imprenta", 0.4, G.MANUFACTURING),
    Sector("326198", "Plásticos", 0.2, G.MANUFACTURING),
    Sector("332710", "Maquinados", 0.6, G.MANUFACTURING),
    Sector("334410", "Electrónica", 0.1, G.MANUFACTURING),
    Sector("337120", "Muebles", 0.5, G.MANUFACTURING),
    Sector("315223", "Confecciones", 0.5, G.GARMENT),
    Sector("315229", "Maquiladora de Ropa", 0.3, G.GARMENT),
    Sector("336310", "Motores y Partes", 0.05, G.AUTO_PARTS),
    Sector("336320", "Arneses", 0.05, G.AUTO_PARTS),
    Sector("336330", "Suspensiones", 0.03, G.AUTO_PARTS),
    Sector("336340", "Frenos", 0.02, G.AUTO_PARTS),
    Sector("336350", "Transmisiones", 0.03, G.AUTO_PARTS),
    Sector("336360", "Asientos e Interiores", 0.05, G.AUTO_PARTS),
    Sector("336370", "Estampados", 0.03, G.AUTO_PARTS),
    Sector("336390", "Autopartes", 0.06, G.AUTO_PARTS),
    Sector("212221", "Minera", 0.02, G.MINING),
    Sector("212222", "Minera Argentífera", 0.02, G.MINING),
    Sector("212231", "Minera de Cobre", 0.01, G.MINING),
    Sector("212311", "Canteras", 0.05, G.MINING),
    Sector("211110", "Petrolera", 0.01, G.MINING),
)

SECTOR_CODES: tuple[str, ...] = tuple(s.code for s in SECTORS)
SECTOR_GROUP: np.ndarray = np.array([int(s.group) for s in SECTORS], dtype=np.int8)

#: INEGI codes of the states where the auto-parts industry clusters.
AUTO_PARTS_STATES: frozenset[str] = frozenset(
    {"05", "19", "08", "11", "22", "01", "21", "15", "24"}
)
_CLUSTER_BOOST, _ELSEWHERE = 6.0, 0.15


def sector_probabilities(state_index: int) -> np.ndarray:
    """The sector mix of one state: the national mix with auto parts moved to the cluster."""
    weights = np.array([s.weight for s in SECTORS])
    is_auto = SECTOR_GROUP == Group.AUTO_PARTS
    in_cluster = STATES[state_index].code in AUTO_PARTS_STATES
    weights[is_auto] *= _CLUSTER_BOOST if in_cluster else _ELSEWHERE
    return weights / weights.sum()


def draw_sectors(rng: np.random.Generator, state: np.ndarray) -> np.ndarray:
    """Sector index of each workplace, drawn from its state's mix."""
    sector = np.empty(len(state), dtype=np.int16)
    for index in range(len(STATES)):
        rows = np.flatnonzero(state == index)
        sector[rows] = rng.choice(len(SECTORS), size=len(rows), p=sector_probabilities(index))
    return sector
