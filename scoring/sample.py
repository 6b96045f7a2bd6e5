"""Embedded synthetic cooperative registry whose true export probability is known.

The generative model and the true label model are documented in ``docs/sample-model.md``; every
number below is listed there with the reason it exists. The truth is a function of the *observed*
(rounded, possibly missing) columns only, so a model trained on the written files can in
principle reach the Bayes AUC, and counterfactual rows can be re-scored with :func:`true_logit`.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "LABEL",
    "REFERENCE_YEAR",
    "generate_sample",
    "inject_problems",
    "to_english_table",
    "to_persian_table",
    "true_logit",
    "true_probability",
]

REFERENCE_YEAR = 2025
LABEL = "exported_next_year"

# sector: (share, capacity median, price per unit [million rials], ISO prior, export-history prior,
#          sector effect on the truth, ISO 9001 effect on the truth in this sector)
_SECTORS: dict[str, tuple[float, float, float, float, float, float, float]] = {
    "agriculture": (0.30, 600, 150.0, -0.6, 0.2, 0.00, 0.30),
    "industrial": (0.20, 2500, 36.0, 0.8, 0.0, 0.10, 0.90),
    "food_processing": (0.16, 1500, 60.0, 0.7, 0.3, 0.10, 1.00),
    "handicrafts": (0.13, 400, 180.0, -0.9, 0.5, 0.25, 0.20),
    "services": (0.10, 1000, 75.0, 0.0, -1.2, -0.70, 0.30),
    "textiles": (0.07, 900, 90.0, 0.2, 0.1, 0.00, 0.60),
    "mining": (0.04, 25000, 4.5, 0.3, 0.5, 0.20, 0.50),
}
# Rough population weights (millions, 2016 census) of the 31 provinces of the contract.
_PROVINCE_WEIGHT = {
    "tehran": 13.3, "khorasan_razavi": 6.4, "esfahan": 5.1, "fars": 4.85, "khuzestan": 4.7,
    "east_azerbaijan": 3.9, "mazandaran": 3.3, "west_azerbaijan": 3.3, "kerman": 3.2,
    "sistan_baluchestan": 2.8, "alborz": 2.7, "gilan": 2.5, "kermanshah": 1.95, "golestan": 1.87,
    "hormozgan": 1.78, "lorestan": 1.76, "hamadan": 1.74, "kurdistan": 1.6, "markazi": 1.43,
    "qom": 1.29, "qazvin": 1.27, "ardabil": 1.27, "bushehr": 1.16, "yazd": 1.14, "zanjan": 1.06,
    "chaharmahal_bakhtiari": 0.95, "north_khorasan": 0.86, "south_khorasan": 0.77,
    "kohgiluyeh_boyer_ahmad": 0.71, "semnan": 0.70, "ilam": 0.58,
}  # fmt: skip
# Ports and border crossings: a short, cheap route to a foreign buyer. Other provinces: 0.
PROVINCE_EFFECT = {
    "hormozgan": 0.30, "bushehr": 0.25, "khuzestan": 0.15, "sistan_baluchestan": 0.10,
    "west_azerbaijan": 0.15, "east_azerbaijan": 0.10, "kermanshah": 0.15, "kurdistan": 0.10,
    "ilam": 0.10, "khorasan_razavi": 0.10, "gilan": 0.10, "mazandaran": 0.05, "golestan": 0.05,
    "tehran": 0.05,
}  # fmt: skip
SECTOR_EFFECT = {k: v[5] for k, v in _SECTORS.items()}
ISO_EFFECT = {k: v[6] for k, v in _SECTORS.items()}
ISO_EFFECT_OTHER = 0.5  # a sector outside the vocabulary ('other')

# Coefficients of the true logit (see docs/sample-model.md for the formula).
INTERCEPT = -1.35
COEF = {
    "util_low": 2.5, "util_high": 8.0, "util_best": 0.80, "dormant": 0.9, "dormant_below": 0.25,
    "intl": 0.35, "intl_cap": 4, "standard_mark": 0.30, "commercial_card": 0.80,
    "markets": 0.70, "markets_cap": 10, "intensity": 1.50, "defect": 5.0, "defect_cap": 0.40,
    "growth": 0.80, "growth_clip": 0.50, "debt": 1.50, "debt_from": 0.60, "debt_cap": 2.0,
    "members": 0.25, "young": 0.60, "young_below": 3,
}  # fmt: skip
# Fixed effect of an empty optional cell: what "not reported" says about a cooperative.
MISSING_EFFECT = {
    "utilization": -1.0, "iso9001": -0.10, "intl_certifications": -0.10, "standard_mark": -0.05,
    "commercial_card": -0.10, "export_markets": -0.10, "export_revenue": -0.20,
    "defect_rate": -0.30, "revenue_prev": -0.10, "debt_ratio": -0.15, "established_year": -0.10,
}  # fmt: skip
MISSING_RATE = {
    "established_year": 0.03, "employees": 0.05, "revenue_prev": 0.10, "product_lines": 0.05,
    "iso9001": 0.04, "intl_certifications": 0.06, "standard_mark": 0.04, "defect_rate": 0.15,
    "debt_ratio": 0.08, "export_markets": 0.03, "export_revenue": 0.07, "commercial_card": 0.04,
}  # fmt: skip
_NAME_FIRST = ["Arman", "Behsaz", "Pars", "Sepehr", "Kavir", "Alborz", "Zagros", "Mehr", "Nour",
               "Setareh", "Roshan", "Sahand", "Damavand", "Karun", "Hirmand", "Tous"]  # fmt: skip
_NAME_SECOND = {
    "agriculture": ["Saffron", "Pistachio", "Orchard", "Farmers"],
    "industrial": ["Machinery", "Metalworks", "Plastics", "Parts"],
    "food_processing": ["Dairy", "Dates", "Foods", "Canning"],
    "handicrafts": ["Carpet", "Pottery", "Kilim", "Crafts"],
    "services": ["Logistics", "Services", "Repair", "Packaging"],
    "textiles": ["Textile", "Garment", "Weaving", "Yarn"],
    "mining": ["Stone", "Minerals", "Quarry", "Mining"],
}
_PERSIAN_DIGITS = list(zip("0123456789.,", "۰۱۲۳۴۵۶۷۸۹٫٬", strict=True))
_GROUPED = ("installed_capacity", "revenue", "revenue_prev", "export_revenue")
_YES_NO = {False: ("yes", "no"), True: ("بله", "خیر")}


@lru_cache(maxsize=1)
def _contract() -> dict:
    """The packaged contract (column order, Persian headers and names, column types)."""
    with (Path(__file__).parent / "data" / "contract.toml").open("rb") as fh:
        return tomllib.load(fh)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _num(frame: pd.DataFrame, column: str) -> np.ndarray:
    """Column as float64 (NaN for missing); all NaN when the column is absent."""
    if column not in frame:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[column], errors="coerce").astype("float64").to_numpy()


def _lookup(
    frame: pd.DataFrame, column: str, table: dict[str, float], default: float
) -> np.ndarray:
    position = pd.Index(list(table)).get_indexer(frame[column].astype("str"))
    return np.append(np.array(list(table.values()), dtype=float), default)[position]


def generate_sample(
    rows: int, seed: int = 0, *, labelled: bool = True
) -> tuple[pd.DataFrame, np.ndarray]:
    """Draw a synthetic registry from the documented generative model.

    Parameters
    ----------
    rows : int
        Number of cooperatives (>= 0).
    seed : int, default 0
        Seed of ``numpy.random.default_rng``; the same seed gives an identical frame and truth.
    labelled : bool, default True
        Add the column ``exported_next_year`` drawn as Bernoulli(true probability).

    Returns
    -------
    frame : pandas.DataFrame
        Normalised registry rows, canonical English columns in contract order.
    true_probability : numpy.ndarray
        The true probability of exporting next year, per row.
    """
    if rows < 0:
        raise ValueError(f"rows must be >= 0, got {rows}")
    n = int(rows)
    rng = np.random.default_rng(seed)
    sectors = list(_SECTORS)
    spec = np.array([_SECTORS[k] for k in sectors])
    s = rng.choice(len(sectors), size=n, p=spec[:, 0] / spec[:, 0].sum())
    weights = np.array(list(_PROVINCE_WEIGHT.values()))
    p = rng.choice(len(weights), size=n, p=weights / weights.sum())
    provinces = np.array(list(_PROVINCE_WEIGHT), dtype=object)[p]
    # Age 0..50, truncated exponential (mean ~12): most cooperatives are recent.
    age = np.floor(-12.0 * np.log1p(-rng.random(n) * (1.0 - np.exp(-51.0 / 12.0))))
    established = REFERENCE_YEAR - np.minimum(age, 50.0)
    members = 7.0 + np.rint(np.exp(rng.normal(np.log(18.0), 0.9, n)))
    size = np.log(members / 25.0)
    employees = np.rint(members * np.exp(rng.normal(-0.5, 0.6, n)))
    capacity = np.maximum(1.0, np.rint(spec[s, 1] * np.exp(0.6 * size + rng.normal(0, 0.7, n))))
    dormant = rng.random(n) < 0.20
    util = np.where(dormant, rng.beta(1.2, 6.0, n), rng.beta(5.0, 2.5, n))
    output = np.minimum(np.round(util * capacity, 1), capacity)
    revenue = np.round(output * spec[s, 2] * np.exp(0.25 * size + rng.normal(0, 0.5, n)), 1)
    growth = rng.normal(0.15 + 0.4 * (util - 0.6), 0.25, n)
    revenue_prev = np.round(revenue / np.exp(growth), 1)
    product_lines = 1.0 + rng.poisson(1.5, n)
    active = (~dormant).astype(float)
    iso = rng.random(n) < _sigmoid(-2.0 + spec[s, 3] + 0.6 * size + 0.5 * active)
    intl = rng.poisson(np.exp(-1.6 + 1.2 * iso + 0.3 * size)).astype(float)
    food = s == sectors.index("food_processing")
    standard = rng.random(n) < _sigmoid(-0.6 + 0.9 * iso + 0.3 * size + 0.6 * food)
    defect = np.round(np.where(iso, rng.beta(2.0, 40.0, n), rng.beta(2.0, 22.0, n)), 3)
    debt = np.round(rng.gamma(3.0, np.where(dormant, 0.20, 0.14)), 2)
    border = np.array([PROVINCE_EFFECT.get(k, 0.0) for k in _PROVINCE_WEIGHT])[p]
    history_logit = -2.6 + spec[s, 4] + 0.5 * size + 0.8 * iso + 0.3 * intl + 2.0 * border
    history = rng.random(n) < _sigmoid(history_logit + 0.8 * active)
    markets = np.where(history, 1.0 + rng.poisson(1.2, n), 0.0)
    export_revenue = np.where(history, np.round(revenue * rng.beta(2.0, 5.0, n), 1), 0.0)
    card = rng.random(n) < _sigmoid(-2.0 + 2.5 * history + 0.4 * size + 0.3 * iso)
    names = np.array([[f"{a} {b} Cooperative" for a in _NAME_FIRST for b in _NAME_SECOND[k]]
                      for k in sectors], dtype=object)  # fmt: skip
    width = max(7, len(str(n)))
    data = {
        "coop_id": np.strings.add("C", np.strings.zfill(np.arange(1, n + 1).astype(str), width)),
        "name": names[s, rng.integers(0, names.shape[1], n)],
        "province": provinces,
        "sector": np.array(sectors, dtype=object)[s],
        "established_year": established,
        "members": members,
        "employees": employees,
        "installed_capacity": capacity,
        "actual_output": output,
        "revenue": revenue,
        "revenue_prev": revenue_prev,
        "product_lines": product_lines,
        "export_revenue": export_revenue,
        "export_markets": markets,
        "iso9001": iso.astype(float),
        "intl_certifications": intl,
        "standard_mark": standard.astype(float),
        "defect_rate": defect,
        "debt_ratio": debt,
        "commercial_card": card.astype(float),
        # The registry year the row describes: one year here, so training holds out at random.
        "data_year": np.full(n, float(REFERENCE_YEAR)),
    }
    for column, rate in MISSING_RATE.items():
        data[column] = np.where(rng.random(n) < rate, np.nan, data[column])
    frame = pd.DataFrame(data)
    for column in ("coop_id", "name", "province", "sector"):
        frame[column] = frame[column].astype("str")
    probability = true_probability(frame)
    if labelled:
        frame[LABEL] = (rng.random(n) < probability).astype(np.int64)
    return frame, probability


def true_logit(frame: pd.DataFrame) -> np.ndarray:
    """True log-odds of exporting next year, from the observed columns of a normalised frame.

    Parameters
    ----------
    frame : pandas.DataFrame
        Normalised rows (English vocabulary keys, yes/no as 1.0/0.0/NaN, NaN for missing).
        Absent optional columns count as missing; unknown sectors/provinces get no effect.

    Returns
    -------
    numpy.ndarray
        One log-odds per row. Additive in derived quantities, except ISO 9001 x sector.
    """
    c, m = COEF, MISSING_EFFECT
    output, capacity = _num(frame, "actual_output"), _num(frame, "installed_capacity")
    with np.errstate(divide="ignore", invalid="ignore"):
        util = np.clip(np.where(capacity > 0, output / capacity, np.nan), 0.0, 1.0)
    gap = util - c["util_best"]
    f_util = np.where(gap < 0, -c["util_low"] * gap**2, -c["util_high"] * gap**2)
    f_util = f_util - c["dormant"] * (util < c["dormant_below"])
    eta = INTERCEPT + np.where(np.isnan(util), m["utilization"], f_util)

    def term(values: np.ndarray, effect: np.ndarray | float, column: str) -> np.ndarray:
        return np.where(np.isnan(values), m[column], effect)

    iso = _num(frame, "iso9001")
    eta += term(iso, iso * _lookup(frame, "sector", ISO_EFFECT, ISO_EFFECT_OTHER), "iso9001")
    intl = _num(frame, "intl_certifications")
    eta += term(intl, c["intl"] * np.minimum(intl, c["intl_cap"]), "intl_certifications")
    std, card = _num(frame, "standard_mark"), _num(frame, "commercial_card")
    eta += term(std, c["standard_mark"] * std, "standard_mark")
    eta += term(card, c["commercial_card"] * card, "commercial_card")
    markets = _num(frame, "export_markets")
    f_markets = c["markets"] * np.log1p(np.clip(markets, 0, c["markets_cap"]))
    eta += term(markets, f_markets, "export_markets")
    revenue, export = _num(frame, "revenue"), _num(frame, "export_revenue")
    with np.errstate(divide="ignore", invalid="ignore"):
        intensity = np.where(revenue > 0, np.clip(export / revenue, 0.0, 1.0), 0.0)
    eta += term(export, c["intensity"] * np.sqrt(intensity), "export_revenue")
    defect = _num(frame, "defect_rate")
    eta += term(defect, -c["defect"] * np.clip(defect, 0, c["defect_cap"]), "defect_rate")
    prev = _num(frame, "revenue_prev")
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = np.where(prev > 0, revenue / prev - 1.0, np.where(revenue > 0, np.inf, 0.0))
    f_growth = c["growth"] * np.clip(growth, -c["growth_clip"], c["growth_clip"])
    eta += term(prev, f_growth, "revenue_prev")
    debt = _num(frame, "debt_ratio")
    over = np.clip(debt - c["debt_from"], 0.0, c["debt_cap"] - c["debt_from"])
    eta += term(debt, -c["debt"] * over, "debt_ratio")
    members = np.maximum(_num(frame, "members"), 1.0)
    eta += np.nan_to_num(c["members"] * np.log(members / 25.0))
    age = REFERENCE_YEAR - _num(frame, "established_year")
    eta += term(age, -c["young"] * (age < c["young_below"]), "established_year")
    eta += _lookup(frame, "sector", SECTOR_EFFECT, 0.0)
    eta += _lookup(frame, "province", PROVINCE_EFFECT, 0.0)
    return eta


def true_probability(frame: pd.DataFrame) -> np.ndarray:
    """True probability of exporting next year: the logistic of :func:`true_logit`."""
    return _sigmoid(true_logit(frame))


def _minimal(values: np.ndarray, grouped: bool) -> list[str]:
    """Shortest round-trip text of each float ('12345.6', '100', '0.045'), '' for NaN."""
    fmt = "{:,}".format if grouped else repr
    return ["" if v != v else fmt(v).removesuffix(".0") for v in values.tolist()]


def _integral(values: np.ndarray) -> bool:
    return bool(np.all(np.isnan(values) | (values == np.round(values))))


def _write(frame: pd.DataFrame, persian: bool) -> pd.DataFrame:
    contract = _contract()
    out: dict[str, pd.Series] = {}
    for col in contract["column"]:
        name, kind = col["name"], col["type"]
        if name not in frame:
            continue
        pairs = _PERSIAN_DIGITS[:10]  # text and whole numbers: digits only
        if kind in ("id", "text", "category"):
            text = frame[name].astype("str").fillna("")
            if kind == "category" and persian:
                vocab = contract["vocabulary"][col["vocabulary"]]
                names = {k: v[0] for k, v in vocab.items() if isinstance(v, list)}
                text = text.map(lambda k, names=names: names.get(k, k))
            if not text.str.contains("[0-9]", regex=True).any():
                pairs = []
        elif kind == "yesno":
            yes, no = _YES_NO[persian]
            v = _num(frame, name)
            text = pd.Series(np.where(np.isnan(v), "", np.where(v == 1, yes, no)), dtype="str")
            pairs = []
        elif kind in ("int", "year", "label") and _integral(_num(frame, name)):
            v = _num(frame, name) - (621 if persian and kind == "year" else 0)
            text = pd.Series(v).astype("Int64").astype("str").fillna("")
        else:
            v = _num(frame, name)
            text = pd.Series(_minimal(v, persian and name in _GROUPED), dtype="str")
            pairs = _PERSIAN_DIGITS
        if persian:  # arrow-backed replace: far faster than str.translate per cell
            for latin, persian_char in pairs:
                text = text.str.replace(latin, persian_char, regex=False)
        out[col["fa"] if persian else name] = text.set_axis(frame.index).astype("str")
    return pd.DataFrame(out, index=frame.index)


def to_english_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Write a normalised frame as the English registry export: every cell a string.

    Canonical English headers in contract order; yes/no as 'yes'/'no'; whole numbers without
    '.0'; other numbers in their shortest round-trip form; '' for missing.
    """
    return _write(frame, persian=False)


def to_persian_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Write the same rows as a Persian registry export: every cell a string.

    Persian headers; Persian digits everywhere; '٬' thousands separator in installed_capacity,
    revenue, revenue_prev and export_revenue; '٫' decimal mark; Jalali year (Gregorian - 621);
    'بله'/'خیر'; Persian sector and province names; defect_rate as a fraction; '' for missing.
    Each number denotes exactly the float of the English twin.
    """
    return _write(frame, persian=True)


PROBLEM_KINDS = (
    "text_in_number",  # 'abc' or 'n/a?' in a number cell -> rejected
    "negative_members",  # '-12' members -> rejected (members >= 1)
    "empty_required",  # a required cell left empty -> rejected
    "defect_rate_150_percent",  # '150%' -> rejected (defect_rate <= 1)
    "maybe_in_yesno",  # 'maybe' in a yes/no cell -> rejected
    "duplicate_id",  # coop_id copied from an earlier row -> the later row is rejected
    "unknown_sector",  # 'fishing' -> NOT an error, becomes sector 'other'
)
_NUMBER_COLUMNS = ("members", "installed_capacity", "actual_output", "revenue", "employees",
                   "debt_ratio", "revenue_prev")  # fmt: skip
_REQUIRED = ("coop_id", "province", "sector", "members", "installed_capacity", "actual_output",
             "revenue")  # fmt: skip


def inject_problems(table: pd.DataFrame, share: float, seed: int) -> pd.DataFrame:
    """Dirty about ``share`` of the rows of a written table, one or two problems per row.

    Parameters
    ----------
    table : pandas.DataFrame
        A table from :func:`to_english_table` (English headers; Persian headers also work).
    share : float
        Share of rows to change, 0..1 (``round(share * len(table))`` rows).
    seed : int
        Seed of the random choices.

    Returns
    -------
    pandas.DataFrame
        A new table; kinds of problem in ``PROBLEM_KINDS``. All but ``unknown_sector`` make the
        row invalid under the default contract.
    """
    rng = np.random.default_rng(seed)
    fa = {c["name"]: c["fa"] for c in _contract()["column"]}
    header = {k: (k if k in table else fa[k]) for k in fa if k in table or fa[k] in table}
    cells = {h: table[h].astype("object").to_numpy(copy=True) for h in table.columns}
    ids = cells[header["coop_id"]].copy() if "coop_id" in header else None
    n = len(table)
    victims = rng.choice(n, size=min(n, round(share * n)), replace=False)
    for row in victims.tolist():
        kinds = rng.choice(len(PROBLEM_KINDS), size=1 + (rng.random() < 0.3), replace=False)
        for kind in (PROBLEM_KINDS[k] for k in kinds):
            if kind == "duplicate_id" and (row == 0 or ids is None):
                kind = "text_in_number"
            if kind == "text_in_number":
                col, value = rng.choice(_NUMBER_COLUMNS), rng.choice(["abc", "n/a?"])
            elif kind == "negative_members":
                col = "members"
                old = str(cells[header[col]][row]) if col in header else ""
                value = "-" + (old or "5")
            elif kind == "empty_required":
                col, value = rng.choice(_REQUIRED), ""
            elif kind == "defect_rate_150_percent":
                col, value = "defect_rate", "150%"
            elif kind == "maybe_in_yesno":
                col, value = rng.choice(["iso9001", "standard_mark", "commercial_card"]), "maybe"
            elif kind == "duplicate_id":
                col, value = "coop_id", ids[rng.integers(0, row)]
            else:
                col, value = "sector", "fishing"
            if col in header:
                cells[header[col]][row] = value
    return pd.DataFrame(cells, index=table.index, dtype="str")
