"""Numba kernels for time-safe, calendar-correct per-series features (the retail hot path).

Data layout shared by every kernel:

* observations (the known history) are sorted by series then by day, one row per (series, day);
  ``obs_off[s]:obs_off[s + 1]`` is series ``s``; ``obs_day`` holds days since 1970-01-01 and
  ``obs_val`` the target (NaN = unknown, skipped everywhere);
* queries (the rows to compute features for) use the same series numbering and are sorted by day
  within each series; for training frames the queries *are* the observations.
* ``out`` is preallocated by the caller with shape ``(n_features, n_queries)`` in C order, so each
  feature is one contiguous column (column-major with respect to the feature table).

Semantics, all by date, never by row position (a series with a half-year hole gets true calendar
lags):

* ``lag k`` at day ``t`` is the value observed on day ``t - k`` (NaN if that day is absent).
* a window ``w`` at day ``t`` covers the days ``[t - w, t - 1]`` (strictly before ``t``); statistics
  use the observations present in that span and are NaN when fewer than ``min_periods`` are present
  (``std`` is the sample standard deviation, ddof = 1, and needs at least two).

Rolling statistics use the two-stacks sliding-window aggregation: a back stack with a running
aggregate and a front stack of suffix aggregates; each window is the combination of one suffix and
the back aggregate, so nothing is ever subtracted out of an accumulator and every observation is
touched O(1) times. Each stack accumulates shifted sums ``sum(x - k)`` and ``sum((x - k)^2)`` around
a shift ``k`` that is itself one of the window's values: with ``R`` the window's range,
``sum((x - k)^2) <= n R^2`` while the sum of squared deviations is at least ``R^2 / 2``, so the
variance's relative rounding error stays within ``O(n^2)`` ulps (a constant window has a standard
deviation of exactly 0), with no division in the accumulation loops.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

# Window statistic codes (row order inside one window's block of outputs follows the request).
STAT_MEAN = 0
STAT_STD = 1
STAT_MIN = 2
STAT_MAX = 3
STAT_SUM = 4
STAT_CODES = {"mean": STAT_MEAN, "std": STAT_STD, "min": STAT_MIN, "max": STAT_MAX, "sum": STAT_SUM}


@njit(cache=True, nogil=True)
def _dense_window(  # type: ignore[no-untyped-def]
    s0,
    n,
    val,
    w,
    r_mean,
    r_std,
    r_min,
    r_max,
    r_sum,
    min_periods,
    out,
    f1,
    f2,
    fmin,
    fmax,
):
    """One window over a gap-free, NaN-free series whose queries are its own rows (position = day).

    Static two-stacks (van Herk / Gil-Werman) with blocks of length ``w``: for row ``p >= w`` the
    window ``[p - w, p - 1]`` is the suffix of block ``m - 1`` from ``p - w`` (``f*``, a small
    buffer of ``w`` entries) plus the running prefix of block ``m = p // w`` before ``p``. Both are
    shifted by the last value of block ``m - 1``, which lies inside the window. Two passes per
    block: the suffixes of the previous block, then the prefix fused with the output.
    """
    need_minmax = r_min >= 0 or r_max >= 0
    # Rows 0..min(w, n) - 1: the window is the prefix [0, p - 1] of block 0, shifted by val[s0].
    k0 = val[s0]
    a1 = 0.0
    a2 = 0.0
    amin = np.inf
    amax = -np.inf
    for p in range(min(w, n)):
        _write(out, s0 + p, float(p), k0, a1, a2, amin, amax, r_mean, r_std, r_min, r_max, r_sum, min_periods)
        x = val[s0 + p]
        d = x - k0
        a1 += d
        a2 += d * d
        if need_minmax:
            amin = min(amin, x)
            amax = max(amax, x)
    if n <= w:
        return
    fw = float(w)
    inv_w = 1.0 / fw
    inv_w1 = 1.0 / (fw - 1.0) if w > 1 else 0.0
    ok = fw >= min_periods
    ok_std = ok and w >= 2
    for b0 in range(w, n, w):
        b1 = min(b0 + w, n)
        k = val[s0 + b0 - 1]  # last value of the previous block: inside every window of this block
        # Suffix aggregates of the previous block (offset j = q - (b0 - w)), shifted by k.
        a1 = 0.0
        a2 = 0.0
        amin = np.inf
        amax = -np.inf
        for j in range(w - 1, -1, -1):
            x = val[s0 + b0 - w + j]
            d = x - k
            a1 += d
            a2 += d * d
            f1[j] = a1
            f2[j] = a2
            if need_minmax:
                amin = min(amin, x)
                amax = max(amax, x)
                fmin[j] = amin
                fmax[j] = amax
        # Rows of this block: suffix from p - w (offset p - b0) plus the running prefix [b0, p).
        a1 = 0.0
        a2 = 0.0
        amin = np.inf
        amax = -np.inf
        for p in range(b0, b1):
            j = p - b0
            t1 = f1[j] + a1
            qi = s0 + p
            if r_mean >= 0:
                out[r_mean, qi] = k + t1 * inv_w if ok else np.nan
            if r_sum >= 0:
                out[r_sum, qi] = k * fw + t1 if ok else np.nan
            if r_std >= 0:
                m2 = f2[j] + a2 - t1 * t1 * inv_w
                out[r_std, qi] = np.sqrt(max(m2, 0.0) * inv_w1) if ok_std else np.nan
            if need_minmax:
                if r_min >= 0:
                    out[r_min, qi] = min(fmin[j], amin) if ok else np.nan
                if r_max >= 0:
                    out[r_max, qi] = max(fmax[j], amax) if ok else np.nan
            x = val[qi]
            d = x - k
            a1 += d
            a2 += d * d
            if need_minmax:
                amin = min(amin, x)
                amax = max(amax, x)


@njit(cache=True, nogil=True, inline="always")
def _write(  # type: ignore[no-untyped-def]
    out, qi, n, k, t1, t2, lo_v, hi_v, r_mean, r_std, r_min, r_max, r_sum, min_periods
):
    """Write the requested statistics of a window of n values with t1 = sum(x - k), t2 = sum((x - k)^2)."""
    ok = n >= min_periods and n > 0.0
    if r_mean >= 0:
        out[r_mean, qi] = k + t1 / n if ok else np.nan
    if r_std >= 0:
        if ok and n >= 2.0:
            m2 = t2 - t1 * t1 / n
            out[r_std, qi] = np.sqrt(m2 / (n - 1.0)) if m2 > 0.0 else 0.0
        else:
            out[r_std, qi] = np.nan
    if r_min >= 0:
        out[r_min, qi] = lo_v if ok else np.nan
    if r_max >= 0:
        out[r_max, qi] = hi_v if ok else np.nan
    if r_sum >= 0:
        out[r_sum, qi] = k * n + t1 if ok else np.nan


@njit(cache=True, nogil=True)
def _series_features(  # type: ignore[no-untyped-def]
    s0,
    s1_,
    q0,
    q1,
    obs_day,
    obs_val,
    q_day,
    lags,
    windows,
    stat_rows,
    min_periods,
    out,
    suf_n,
    suf_s1,
    suf_s2,
    suf_min,
    suf_max,
    same,
):
    n_obs = s1_ - s0
    dense = n_obs > 0 and obs_day[s1_ - 1] - obs_day[s0] == n_obs - 1
    # Lags. A gap-free series maps a day to its row directly; otherwise one forward-moving pointer
    # per lag (queries are sorted by day).
    for li in range(lags.shape[0]):
        k = lags[li]
        if dense and same:
            # Gap-free training rows: the lag is a shifted copy (branch-free loops).
            kk = min(k, n_obs)
            for p in range(kk):
                out[li, s0 + p] = np.nan
            for p in range(kk, n_obs):
                out[li, s0 + p] = obs_val[s0 + p - kk]
            continue
        if dense:
            first = obs_day[s0]
            for qi in range(q0, q1):
                pos = q_day[qi] - k - first
                out[li, qi] = obs_val[s0 + pos] if 0 <= pos < n_obs else np.nan
            continue
        j = s0
        for qi in range(q0, q1):
            target = q_day[qi] - k
            while j < s1_ and obs_day[j] < target:
                j += 1
            if j < s1_ and obs_day[j] == target:
                out[li, qi] = obs_val[j]
            else:
                out[li, qi] = np.nan
    nan_free = True
    if same and dense and windows.shape[0] > 0:
        for j in range(s0, s1_):
            if np.isnan(obs_val[j]):
                nan_free = False
                break
    for wi in range(windows.shape[0]):
        w = windows[wi]
        r_mean = stat_rows[wi, STAT_MEAN]
        r_std = stat_rows[wi, STAT_STD]
        r_min = stat_rows[wi, STAT_MIN]
        r_max = stat_rows[wi, STAT_MAX]
        r_sum = stat_rows[wi, STAT_SUM]
        if same and dense and nan_free:
            _dense_window(
                s0,
                n_obs,
                obs_val,
                w,
                r_mean,
                r_std,
                r_min,
                r_max,
                r_sum,
                min_periods,
                out,
                suf_s1,
                suf_s2,
                suf_min,
                suf_max,
            )
            continue
        need_minmax = r_min >= 0 or r_max >= 0
        lo = s0  # first observation inside the window
        mid = s0  # front stack is [lo, mid), back stack is [mid, hi)
        hi = s0  # first observation at or after the query day
        kf = 0.0  # shift of the front stack (a value inside every non-empty front suffix)
        kb = 0.0  # shift of the back stack (its first value)
        bn = 0.0
        bs1 = 0.0
        bs2 = 0.0
        bmin = np.inf
        bmax = -np.inf
        for qi in range(q0, q1):
            t = q_day[qi]
            while hi < s1_ and obs_day[hi] < t:
                x = obs_val[hi]
                if not np.isnan(x):
                    if bn == 0.0:
                        kb = x
                    bn += 1.0
                    d = x - kb
                    bs1 += d
                    bs2 += d * d
                    if need_minmax:
                        if x < bmin:
                            bmin = x
                        if x > bmax:
                            bmax = x
                hi += 1
            start = t - w
            while lo < hi and obs_day[lo] < start:
                if lo == mid:
                    # Front stack empty: turn the back stack into suffix aggregates.
                    cn = 0.0
                    c1 = 0.0
                    c2 = 0.0
                    cmin = np.inf
                    cmax = -np.inf
                    for j in range(hi - 1, mid - 1, -1):
                        x = obs_val[j]
                        if not np.isnan(x):
                            if cn == 0.0:
                                kf = x
                            cn += 1.0
                            d = x - kf
                            c1 += d
                            c2 += d * d
                            if need_minmax:
                                if x < cmin:
                                    cmin = x
                                if x > cmax:
                                    cmax = x
                        suf_n[j - s0] = cn
                        suf_s1[j - s0] = c1
                        suf_s2[j - s0] = c2
                        if need_minmax:
                            suf_min[j - s0] = cmin
                            suf_max[j - s0] = cmax
                    mid = hi
                    bn = 0.0
                    bs1 = 0.0
                    bs2 = 0.0
                    bmin = np.inf
                    bmax = -np.inf
                lo += 1
            # Combine the front suffix (if any) with the back aggregate, around the front's shift:
            # the window holds n values x with t1 = sum(x - k), t2 = sum((x - k)^2).
            if lo < mid and suf_n[lo - s0] > 0.0:
                n = suf_n[lo - s0] + bn
                dk = kb - kf
                k = kf
                t1 = suf_s1[lo - s0] + bs1 + bn * dk
                t2 = suf_s2[lo - s0] + bs2 + 2.0 * dk * bs1 + bn * dk * dk
                lo_v = np.nan
                hi_v = np.nan
                if need_minmax:
                    lo_v = min(suf_min[lo - s0], bmin)
                    hi_v = max(suf_max[lo - s0], bmax)
            else:
                n = bn
                k = kb
                t1 = bs1
                t2 = bs2
                lo_v = bmin
                hi_v = bmax
            _write(out, qi, n, k, t1, t2, lo_v, hi_v, r_mean, r_std, r_min, r_max, r_sum, min_periods)


@njit(cache=True, parallel=True, nogil=True)
def series_features(  # type: ignore[no-untyped-def]
    obs_off, obs_day, obs_val, q_off, q_day, lags, windows, stat_rows, min_periods, same, out
):
    """Fill ``out[n_features, n_queries]``.

    Rows ``0 .. len(lags) - 1`` are the lags in order; ``stat_rows[wi, code]`` is the output row of
    statistic ``code`` (``STAT_*``) for window ``windows[wi]``, or -1 when not requested. ``same``
    says the queries are the observations themselves (a training frame), which lets gap-free,
    NaN-free series take the positional block path.
    Series are processed in parallel (they write disjoint columns of ``out``).
    """
    need_minmax = False
    for wi in range(stat_rows.shape[0]):
        if stat_rows[wi, STAT_MIN] >= 0 or stat_rows[wi, STAT_MAX] >= 0:
            need_minmax = True
    n_series = obs_off.shape[0] - 1
    for s in prange(n_series):
        # Small per-series scratch (reused by the allocator; no large fresh pages to fault in).
        m = obs_off[s + 1] - obs_off[s]
        mm = m if need_minmax else 0
        suf_n = np.empty(m)
        suf_s1 = np.empty(m)
        suf_s2 = np.empty(m)
        suf_min = np.empty(mm)
        suf_max = np.empty(mm)
        _series_features(
            obs_off[s],
            obs_off[s + 1],
            q_off[s],
            q_off[s + 1],
            obs_day,
            obs_val,
            q_day,
            lags,
            windows,
            stat_rows,
            min_periods,
            out,
            suf_n,
            suf_s1,
            suf_s2,
            suf_min,
            suf_max,
            same,
        )


@njit(cache=True, nogil=True)
def series_features_serial(  # type: ignore[no-untyped-def]
    obs_off, obs_day, obs_val, q_off, q_day, lags, windows, stat_rows, min_periods, same, out
):
    """:func:`series_features` on one thread (small inputs, where a thread pool costs more).

    Fill ``out[n_features, n_queries]``.

    Rows ``0 .. len(lags) - 1`` are the lags in order; ``stat_rows[wi, code]`` is the output row of
    statistic ``code`` (``STAT_*``) for window ``windows[wi]``, or -1 when not requested. ``same``
    says the queries are the observations themselves (a training frame), which lets gap-free,
    NaN-free series take the positional block path.
    Series are processed in parallel (they write disjoint columns of ``out``).
    """
    need_minmax = False
    for wi in range(stat_rows.shape[0]):
        if stat_rows[wi, STAT_MIN] >= 0 or stat_rows[wi, STAT_MAX] >= 0:
            need_minmax = True
    n_series = obs_off.shape[0] - 1
    for s in range(n_series):
        # Small per-series scratch (reused by the allocator; no large fresh pages to fault in).
        m = obs_off[s + 1] - obs_off[s]
        mm = m if need_minmax else 0
        suf_n = np.empty(m)
        suf_s1 = np.empty(m)
        suf_s2 = np.empty(m)
        suf_min = np.empty(mm)
        suf_max = np.empty(mm)
        _series_features(
            obs_off[s],
            obs_off[s + 1],
            q_off[s],
            q_off[s + 1],
            obs_day,
            obs_val,
            q_day,
            lags,
            windows,
            stat_rows,
            min_periods,
            out,
            suf_n,
            suf_s1,
            suf_s2,
            suf_min,
            suf_max,
            same,
        )


@njit(cache=True, nogil=True)
def check_sorted_unique(off, day):  # type: ignore[no-untyped-def]
    """-1 if days strictly increase inside every series, else the first offending row index."""
    for s in range(off.shape[0] - 1):
        for i in range(off[s] + 1, off[s + 1]):
            if day[i] <= day[i - 1]:
                return i
    return -1


@njit(cache=True, nogil=True)
def holiday_distances(days, holidays, out_is, out_next, out_prev):  # type: ignore[no-untyped-def]
    """Holiday flag and days to the next / since the previous holiday for each day.

    ``holidays`` is sorted and unique. A day that is itself a holiday has distance 0 both ways;
    no holiday ahead (behind) gives NaN.
    """
    nh = holidays.shape[0]
    for i in range(days.shape[0]):
        t = days[i]
        # binary search: first holiday >= t
        lo = 0
        hi = nh
        while lo < hi:
            m = (lo + hi) // 2
            if holidays[m] < t:
                lo = m + 1
            else:
                hi = m
        if lo < nh:
            out_next[i] = holidays[lo] - t
            out_is[i] = 1.0 if holidays[lo] == t else 0.0
        else:
            out_next[i] = np.nan
            out_is[i] = 0.0
        if lo < nh and holidays[lo] == t:
            out_prev[i] = 0.0
        elif lo > 0:
            out_prev[i] = t - holidays[lo - 1]
        else:
            out_prev[i] = np.nan


BASELINE_NAIVE = 0
BASELINE_SEASONAL = 1
BASELINE_MOVING_AVERAGE = 2


@njit(cache=True, nogil=True)
def _first_at_or_after(day, lo, hi, t):  # type: ignore[no-untyped-def]
    while lo < hi:
        m = (lo + hi) // 2
        if day[m] < t:
            lo = m + 1
        else:
            hi = m
    return lo


@njit(cache=True, nogil=True)
def baseline_forecast(off, day, val, origin, min_day, horizon, kind, season, window, max_back, out):  # type: ignore[no-untyped-def]
    """Baseline forecasts for days ``origin .. origin + horizon - 1`` into ``out[n_series, horizon]``.

    Only observations dated in ``[min_day, origin - 1]`` are read (time-safe by construction).
    naive: the last non-NaN value; seasonal: the value ``season * j`` days before the target for
    the smallest ``j`` in ``1..max_back`` that lands on an observed day, else the last value;
    moving average: the mean over ``[origin - window, origin - 1]``, else the last value. NaN when
    a series has no observation in range.
    """
    for s in range(off.shape[0] - 1):
        a = _first_at_or_after(day, off[s], off[s + 1], min_day)
        b = _first_at_or_after(day, a, off[s + 1], origin)
        last = np.nan
        for j in range(b - 1, a - 1, -1):
            if not np.isnan(val[j]):
                last = val[j]
                break
        if kind == BASELINE_NAIVE:
            for h in range(horizon):
                out[s, h] = last
        elif kind == BASELINE_MOVING_AVERAGE:
            lo = _first_at_or_after(day, a, b, origin - window)
            total = 0.0
            cnt = 0
            for j in range(lo, b):
                if not np.isnan(val[j]):
                    total += val[j]
                    cnt += 1
            v = total / cnt if cnt > 0 else last
            for h in range(horizon):
                out[s, h] = v
        else:
            for h in range(horizon):
                target = origin + h
                v = last
                for j in range(1, max_back + 1):
                    t = target - season * j
                    if t >= origin:
                        continue
                    if t < min_day:
                        break
                    p = _first_at_or_after(day, a, b, t)
                    if p < b and day[p] == t and not np.isnan(val[p]):
                        v = val[p]
                        break
                out[s, h] = v


@njit(cache=True, nogil=True)
def gather_window(off, day, val, origin, horizon, out):  # type: ignore[no-untyped-def]
    """``out[s, h]`` = the value of series ``s`` on day ``origin + h`` (NaN when absent)."""
    for s in range(off.shape[0] - 1):
        p = _first_at_or_after(day, off[s], off[s + 1], origin)
        for h in range(horizon):
            out[s, h] = np.nan
        while p < off[s + 1] and day[p] < origin + horizon:
            out[s, day[p] - origin] = val[p]
            p += 1


@njit(cache=True, nogil=True)
def series_date_order(codes, n_codes, days, min_day, n_days):  # type: ignore[no-untyped-def]
    """Row order sorting by (series code, day): two stable counting sorts (LSD radix), O(n + range)."""
    n = codes.shape[0]
    count = np.zeros(n_days + 1, dtype=np.int64)
    for i in range(n):
        count[days[i] - min_day + 1] += 1
    for k in range(n_days):
        count[k + 1] += count[k]
    by_day = np.empty(n, dtype=np.int64)
    for i in range(n):
        k = days[i] - min_day
        by_day[count[k]] = i
        count[k] += 1
    cc = np.zeros(n_codes + 1, dtype=np.int64)
    for i in range(n):
        cc[codes[i] + 1] += 1
    for k in range(n_codes):
        cc[k + 1] += cc[k]
    order = np.empty(n, dtype=np.int64)
    for j in range(n):
        i = by_day[j]
        k = codes[i]
        order[cc[k]] = i
        cc[k] += 1
    return order
