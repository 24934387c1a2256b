#!/usr/bin/env python3
"""numpy_check.py: the NumPy oracle of the cut language. Reads the columns, the selection and the
pass masks that core_cut_numpy_data wrote, recomputes every expression with a hand-written NumPy
equivalent (float64 throughout, as ngt computes) and requires the masks to agree exactly.

Usage: numpy_check.py DIR
"""
import sys

import numpy as np

D = sys.argv[1]
TWO_PI = 2 * np.pi


def F(name):
    """A column as float64 (booleans as 0/1), shape [events] or [events, elems]."""
    return np.load(f"{D}/{name}.npy").astype(np.float64)


def B(a):
    return a != 0


# Per-event columns and batch scalars.
pt, x, nhit, flag, big = F("pt"), F("x"), F("nhit"), B(F("flag")), F("big")
w16, w32, w64, s8 = F("w16"), F("w32"), F("w64"), F("s8")
fad_in, fad_out, hits, q, v, m2 = F("fad_in"), F("fad_out"), F("hits"), F("q"), F("v"), F("m2")
run, calib = float(F("run")), float(F("calib"))


def collection(name, fields, mx):
    n = np.clip(F(f"{name}.n"), 0, mx)
    valid = np.arange(mx)[None, :] < n[:, None]
    return n, valid, {f: F(f"{name}.{f}") for f in fields}


jn, jv, J = collection("jet", ["pt", "eta", "phi", "btag", "charge"], 12)
mn, mv, M = collection("mu", ["pt", "eta", "phi", "m"], 4)
jpt, jeta, jbtag, jcharge = J["pt"], J["eta"], B(J["btag"]), J["charge"]
mpt, meta, mm = M["pt"], M["eta"], M["m"]


def seqsum(a, mask=None):
    """Sum along each row in order (ngt adds element after element, as cumsum does)."""
    if mask is not None:
        a = np.where(mask, a, 0.0)
    return np.cumsum(a, axis=1)[:, -1]


def rmax(a, mask=None):
    if mask is not None:
        a = np.where(mask, a, np.nan)
    return np.fmax.reduce(a, axis=1)  # NaN when nothing is selected


def rmin(a, mask=None):
    if mask is not None:
        a = np.where(mask, a, np.nan)
    return np.fmin.reduce(a, axis=1)


def rmean(a, mask):
    return seqsum(a, mask) / mask.sum(axis=1)


def lead(field, n, k):
    return np.where(k < n, field[:, k], np.nan)


def wrap(d):
    return d - TWO_PI * np.floor((d + np.pi) / TWO_PI)


def finite(C, fields, i):
    """Whether every field a kinematic function reads of object i is finite (NaN otherwise)."""
    return np.all([np.isfinite(C[f][:, i]) for f in fields if f in C], axis=0)


MASS_FIELDS, DR_FIELDS = ("pt", "eta", "phi", "m"), ("eta", "phi")


def pair_mass(C, i, j):
    pt, eta, phi = C["pt"], C["eta"], C["phi"]
    ok = finite(C, MASS_FIELDS, i) & finite(C, MASS_FIELDS, j)
    if "m" not in C:
        m2 = 2 * pt[:, i] * pt[:, j] * (np.cosh(eta[:, i] - eta[:, j]) - np.cos(phi[:, i] - phi[:, j]))
    else:
        m = C["m"]
        px = pt[:, i] * np.cos(phi[:, i]) + pt[:, j] * np.cos(phi[:, j])
        py = pt[:, i] * np.sin(phi[:, i]) + pt[:, j] * np.sin(phi[:, j])
        pzi, pzj = pt[:, i] * np.sinh(eta[:, i]), pt[:, j] * np.sinh(eta[:, j])
        ei = np.sqrt(pt[:, i] * pt[:, i] + pzi * pzi + m[:, i] * m[:, i])
        ej = np.sqrt(pt[:, j] * pt[:, j] + pzj * pzj + m[:, j] * m[:, j])
        e, pz = ei + ej, pzi + pzj
        m2 = e * e - px * px - py * py - pz * pz
    return np.where(ok, np.sqrt(np.where(m2 < 0, 0.0, m2)), np.nan)


def pair_dr(C, i, j):
    deta = C["eta"][:, i] - C["eta"][:, j]
    dphi = wrap(C["phi"][:, i] - C["phi"][:, j])
    ok = finite(C, DR_FIELDS, i) & finite(C, DR_FIELDS, j)
    return np.where(ok, np.sqrt(deta * deta + dphi * dphi), np.nan)


def pair(fn, C, n, i, j):
    return np.where((i < n) & (j < n), fn(C, i, j), np.nan)


def pairs(fn, reduce, C, n, mask=None):
    mx = C["pt"].shape[1]
    best = np.full(n.shape, np.nan)
    fields = MASS_FIELDS if fn is pair_mass else DR_FIELDS
    spoilt = np.zeros(n.shape, bool)  # a selected object with a non-finite component: NaN
    for i in range(mx):
        spoilt |= (i < n) & (mask[:, i] if mask is not None else True) & ~finite(C, fields, i)
    for i in range(mx):
        for j in range(i + 1, mx):
            ok = (i < n) & (j < n)
            if mask is not None:
                ok &= mask[:, i] & mask[:, j]
            best = reduce(best, np.where(ok, fn(C, i, j), np.nan))
    return np.where(spoilt, np.nan, best)


EXPECT = {
    "pt > 30": lambda: pt > 30,
    "pt >= 30": lambda: pt >= 30,
    "pt < 30": lambda: pt < 30,
    "pt <= 30": lambda: pt <= 30,
    "pt == 30": lambda: pt == 30,
    "pt != 30": lambda: pt != 30,
    "pt + x > 50": lambda: pt + x > 50,
    "pt - x < 0": lambda: pt - x < 0,
    "pt * 2 > x * 3": lambda: pt * 2 > x * 3,
    "pt / x > 1.5": lambda: pt / x > 1.5,
    "-pt < -40": lambda: -pt < -40,
    "pt ** 2 > 2500": lambda: pt * pt > 2500,
    "x ** 0.5 > 5": lambda: np.power(x, 0.5) > 5,
    "2 ** (s8 / 16) > 1.5": lambda: np.power(2.0, s8 / 16) > 1.5,
    "-x ** 2 < -900": lambda: -(x * x) < -900,
    "nhit * 2 + 1 > 50": lambda: nhit * 2 + 1 > 50,
    "big / 3 > 1000": lambda: big / 3 > 1000,
    "w16 + w32 > w64 / 2": lambda: w16 + w32 > w64 / 2,
    "abs(s8) > 60": lambda: np.abs(s8) > 60,
    "sqrt(x) > 7": lambda: np.sqrt(x) > 7,
    "min(pt, x) > 20": lambda: np.fmin(pt, x) > 20,
    "max(pt, x) < 60": lambda: np.fmax(pt, x) < 60,
    "1 - 2 - 3 * pt / 4 < -50": lambda: (1.0 - 2.0) - (3 * pt) / 4 < -50,
    "not flag": lambda: ~flag,
    "flag and pt > 20": lambda: flag & (pt > 20),
    "flag or pt > 90": lambda: flag | (pt > 90),
    "not (pt > 30 and x < 50)": lambda: ~((pt > 30) & (x < 50)),
    "not pt > 30 or flag and x > 80": lambda: ~(pt > 30) | (flag & (x > 80)),
    "flag == (pt > 50)": lambda: flag == (pt > 50),
    "flag != true": lambda: flag != True,  # noqa: E712
    "false or x >= 49": lambda: x >= 49,
    "calib * pt > 40": lambda: calib * pt > 40,
    "run == 7 and pt > 10": lambda: (run == 7) & (pt > 10),
    "mean((fad_out - fad_in[0:76])**2) > 1.5": lambda: seqsum((fad_out - fad_in[:, 0:76]) ** 2) / 76 > 1.5,
    "sum(hits) > 0": lambda: seqsum(hits) > 0,
    "max(v) > 0.9": lambda: rmax(v) > 0.9,
    "min(v) < -0.9": lambda: rmin(v) < -0.9,
    "count(hits > 0) >= 4": lambda: np.sum(hits > 0, axis=1) >= 4,
    "any(q > 250)": lambda: np.any(q > 250, axis=1),
    "all(q > 10)": lambda: np.all(q > 10, axis=1),
    "hits[0] + hits[-1] > 0": lambda: hits[:, 0] + hits[:, 7] > 0,
    "max(v[2:5]) > 0.5": lambda: rmax(v[:, 2:5]) > 0.5,
    "sum(fad_in[-10:]) > 5": lambda: seqsum(fad_in[:, 67:]) > 5,
    "mean(fad_in[:10]) > 0.5": lambda: seqsum(fad_in[:, :10]) / 10 > 0.5,
    "max(abs(v) * 2 - 1) > 0.8": lambda: rmax(np.abs(v) * 2 - 1) > 0.8,
    "sum(max(v, 0.5)) > 5": lambda: seqsum(np.fmax(v, 0.5)) > 5,
    "sum(min(0, v)) < -2": lambda: seqsum(np.fmin(0.0, v)) < -2,
    "(v * 2)[3] > 0.5": lambda: (v * 2)[:, 3] > 0.5,
    "count(v > pt / 100) > 3": lambda: np.sum(v > (pt / 100)[:, None], axis=1) > 3,
    "any(m2 > 4.5) or m2[5] < -4": lambda: np.any(m2 > 4.5, axis=1) | (m2[:, 5] < -4),
    "count(jet, pt > 30 and abs(eta) < 2.4) >= 2":
        lambda: np.sum(jv & (jpt > 30) & (np.abs(jeta) < 2.4), axis=1) >= 2,
    "count(jet) >= 3": lambda: jn >= 3,
    "jet.n >= 3": lambda: jn >= 3,
    "any(jet, btag and pt > 50)": lambda: np.any(jv & jbtag & (jpt > 50), axis=1),
    "all(jet, pt > 10)": lambda: np.all(~jv | (jpt > 10), axis=1),
    "sum(jet, pt) > 200": lambda: seqsum(jpt, jv) > 200,
    "sum(jet, pt, abs(eta) < 2.4) > 150": lambda: seqsum(jpt, jv & (np.abs(jeta) < 2.4)) > 150,
    "max(jet, pt) > 80": lambda: rmax(jpt, jv) > 80,
    "min(jet, abs(eta)) < 0.5": lambda: rmin(np.abs(jeta), jv) < 0.5,
    "mean(jet, pt, pt > 20) > 50": lambda: rmean(jpt, jv & (jpt > 20)) > 50,
    "ht(jet) > 250": lambda: seqsum(jpt, jv) > 250,
    "ht(jet, pt > 30 and abs(eta) < 2.4) > 120":
        lambda: seqsum(jpt, jv & (jpt > 30) & (np.abs(jeta) < 2.4)) > 120,
    "leading(jet, 0).pt > 50": lambda: lead(jpt, jn, 0) > 50,
    "leading(jet, 2).pt > 20": lambda: lead(jpt, jn, 2) > 20,
    "not (leading(jet, 3).pt > 20)": lambda: ~(lead(jpt, jn, 3) > 20),
    "leading(jet, 1).btag": lambda: (1 < jn) & jbtag[:, 1],
    "mass(jet, 0, 1) > 100": lambda: pair(pair_mass, {k: J[k] for k in ("pt", "eta", "phi")}, jn, 0, 1) > 100,
    "mass(mu, 0, 1) > 60": lambda: pair(pair_mass, M, mn, 0, 1) > 60,
    "deltaR(jet, 0, 1) < 2": lambda: pair(pair_dr, J, jn, 0, 1) < 2,
    "deltaR(mu, 1, 0) > 3": lambda: pair(pair_dr, M, mn, 1, 0) > 3,
    "maxmass(jet) > 300": lambda: pairs(pair_mass, np.fmax, {k: J[k] for k in ("pt", "eta", "phi")}, jn) > 300,
    "mindr(jet) < 0.5": lambda: pairs(pair_dr, np.fmin, J, jn) < 0.5,
    "mindr(mu, pt > 20) < 1": lambda: pairs(pair_dr, np.fmin, M, mn, mpt > 20) < 1,
    "maxmass(mu, eta > 0) > 50": lambda: pairs(pair_mass, np.fmax, M, mn, meta > 0) > 50,
    "mass(jet, 0, 1) < 40": lambda: pair(pair_mass, {k: J[k] for k in ("pt", "eta", "phi")}, jn, 0, 1) < 40,
    "mass(mu, 0, 1) < 40": lambda: pair(pair_mass, M, mn, 0, 1) < 40,
    "deltaR(mu, 0, 1) >= 0": lambda: pair(pair_dr, M, mn, 0, 1) >= 0,
    "mindr(jet) >= 0": lambda: pairs(pair_dr, np.fmin, J, jn) >= 0,
    "maxmass(jet, pt > 20) >= 0": lambda: pairs(pair_mass, np.fmax, {k: J[k] for k in ("pt", "eta", "phi")}, jn, jpt > 20) >= 0,
    "max(jet.pt) > 80": lambda: rmax(jpt, jv) > 80,
    "count(jet.pt > 40) >= 2": lambda: np.sum(jv & (jpt > 40), axis=1) >= 2,
    "jet.pt[1] > 30": lambda: lead(jpt, jn, 1) > 30,
    "count(jet, charge == -1) >= 1": lambda: np.sum(jv & (jcharge == -1), axis=1) >= 1,
    "count(jet, pt > leading(mu, 0).pt) >= 1":
        lambda: np.sum(jv & (jpt > lead(mpt, mn, 0)[:, None]), axis=1) >= 1,
    "count(jet, count(mu, pt > 100) > 0 and pt > 40) >= 1":
        lambda: np.sum(jv & (np.sum(mv & (mpt > 100), axis=1) > 0)[:, None] & (jpt > 40), axis=1) >= 1,
    "count(jet, pt > x) >= 2": lambda: np.sum(jv & (jpt > x[:, None]), axis=1) >= 2,
    "sum(jet, 1) >= 3": lambda: jn >= 3,
    "max(mu.pt - mu.m) > 20": lambda: rmax(mpt - mm, mv) > 20,
    "min(jet, pt, btag) < 30": lambda: rmin(jpt, jv & jbtag) < 30,
    "any(jet, jet.pt > 100)": lambda: np.any(jv & (jpt > 100), axis=1),
    "sum(jet, charge) > 0": lambda: seqsum(jcharge, jv) > 0,
}


def main():
    exprs = open(f"{D}/exprs.txt").read().splitlines()
    sel = np.load(f"{D}/sel.npy").astype(np.int64)
    missing = [e for e in exprs if e not in EXPECT]
    unused = [e for e in EXPECT if e not in exprs]
    if missing or unused:
        print(f"no NumPy equivalent for {missing}; NumPy equivalents never evaluated: {unused}")
        return 1
    bad = 0
    with np.errstate(all="ignore"):
        for k, expr in enumerate(exprs):
            got = np.load(f"{D}/mask_{k:03d}.npy").astype(bool)
            want = np.asarray(EXPECT[expr](), dtype=bool)[sel]
            diff = np.nonzero(got != want)[0]
            if diff.size:
                i = diff[0]
                print(f"MISMATCH {expr!r}: event {sel[i]} (selected #{i}): ngt {int(got[i])}, "
                      f"numpy {int(want[i])}; {diff.size} of {sel.size} events differ")
                bad += 1
            elif want.all() or not want.any():
                print(f"CONSTANT {expr!r}: every selected event gives {int(want[0])}; "
                      "the data does not exercise it")
                bad += 1
    print(f"{len(exprs)} expressions on {sel.size} selected events: {len(exprs) - bad} agree")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
