"""Deterministic tool selection for the offline agents, and plain-text summaries of tool results.

Rules (first match per intent, several intents may apply, in this order): "alias" + a name and a
run id -> ``create_alias``; "compare" + two run ids -> ``compare_runs``; "scenario", "simulate",
"what if", "price", "promo" + a run id -> ``simulate_scenario``; "train" -> ``train_model``;
"backtest", "compare models", "best model", "evaluate", "wape" -> ``run_backtest``; "series",
"stores", "products", "data" -> ``list_series``. Ids: ``store 3``, ``product 7``, 32-hex run ids;
model names as in the registry. Nothing matched: ``list_series``.
"""

from __future__ import annotations

import re
from typing import Any

from ridgeline.ai.providers import ToolCall
from ridgeline.retail.ai.agent import CallRecord, new_call_id

MODEL_TYPES = ("seasonal_naive", "moving_average", "naive", "lightgbm", "regression")
DEFAULT_MODELS = ["naive", "seasonal_naive", "moving_average"]
_RUN_ID = re.compile(r"\b[0-9a-f]{32}\b")
_STORE = re.compile(r"\bstore[_ ]?(?:id)?\s*[#=:]?\s*(\d+)", re.I)
_PRODUCT = re.compile(r"\bproduct[_ ]?(?:id)?\s*[#=:]?\s*(\d+)", re.I)
_HORIZON = re.compile(r"\b(?:horizon|next)\s*(?:of\s*)?[=:]?\s*(\d+)\s*(?:days?)?", re.I)
_PRICE = re.compile(r"price[^\d+-]*([+-]?\d+(?:\.\d+)?)\s*%", re.I)
_ALIAS = re.compile(r"\balias\s+[\"'`]?([A-Za-z0-9][A-Za-z0-9_.\-]*)", re.I)


def _models(text: str) -> list[str]:
    low = text.lower()
    found: list[str] = []
    for m in MODEL_TYPES:
        # "seasonal_naive" also contains "naive": look for whole words (spaces or underscores).
        pattern = r"(?<![a-z_])" + m.replace("_", "[ _]") + r"(?![a-z_])"
        if re.search(pattern, low) and m not in found:
            found.append(m)
    return found


def _series(text: str) -> dict[str, int]:
    out: dict[str, int] = {}
    if m := _STORE.search(text):
        out["store_id"] = int(m.group(1))
    if m := _PRODUCT.search(text):
        out["product_id"] = int(m.group(1))
    return out


def _call(name: str, args: dict[str, Any]) -> ToolCall:
    return ToolCall(new_call_id(), name, args)


def select_experiment_tools(message: str) -> list[ToolCall]:
    low = message.lower()
    runs = _RUN_ID.findall(low)
    series = _series(message)
    calls: list[ToolCall] = []
    if "alias" in low and runs and (m := _ALIAS.search(message)):
        calls.append(_call("create_alias", {"alias_name": m.group(1), "run_id": runs[0]}))
    if "compare" in low and len(runs) >= 2:
        calls.append(_call("compare_runs", {"run_id_a": runs[0], "run_id_b": runs[1]}))
    if runs and any(w in low for w in ("scenario", "simulate", "what if", "what-if", "price", "promo")):
        args: dict[str, Any] = {"run_id": runs[0]}
        if m := _PRICE.search(message):
            args["price_change_pct"] = float(m.group(1))
        if "promo" in low:
            args["promotion"] = True
        if m := _HORIZON.search(message):
            args["horizon"] = int(m.group(1))
        calls.append(_call("simulate_scenario", args))
    if re.search(r"\btrain", low):
        models = _models(message)
        calls.append(
            _call("train_model", {**series, "model_type": models[0] if models else "seasonal_naive"})
        )
    if any(
        w in low for w in ("backtest", "compare models", "best model", "evaluate", "wape", "which model")
    ) and not any(c.name == "compare_runs" for c in calls):
        args = {**series, "model_types": _models(message) or DEFAULT_MODELS}
        if m := _HORIZON.search(message):
            args["horizon"] = int(m.group(1))
        calls.append(_call("run_backtest", args))
    if not calls:
        calls.append(_call("list_series", {}))
    return calls


def select_rag_tools(message: str) -> list[ToolCall]:
    return [_call("retrieve_context", {"query": message})]


def _pct(v: Any) -> str:
    return "n/a" if not isinstance(v, int | float) else f"{v * 100:.2f}%"


def summarize_records(records: list[CallRecord]) -> str:
    """One paragraph per tool call, from its result (numbers as the engine returned them)."""
    lines: list[str] = []
    for r in records:
        res = r.result if isinstance(r.result, dict) else {}
        if r.status == "error":
            lines.append(f"{r.tool_name} failed: {res.get('error')}")
        elif r.status == "rejected":
            lines.append(f"{r.tool_name} was not run: the call was rejected.")
        elif r.tool_name == "run_backtest":
            ranked = ", ".join(f"{m['model_type']} WAPE {_pct(m.get('wape'))}" for m in res.get("models", []))
            lines.append(
                f"Backtest of store {res.get('store_id')} product {res.get('product_id')} "
                f"({res.get('n_folds')} folds, horizon {res.get('horizon')} days): {ranked}. "
                f"Winner: {res.get('winner')}."
            )
        elif r.tool_name == "train_model":
            lines.append(
                f"Trained {res.get('model_type')} on store {res.get('store_id')} product {res.get('product_id')}: "
                f"run {res.get('run_id')} ({res.get('status')}, {res.get('train_rows')} rows)."
            )
        elif r.tool_name == "compare_runs":
            diffs = ", ".join(
                f"{k}: {v.get('a')} vs {v.get('b')}" for k, v in (res.get("metrics_diff") or {}).items()
            )
            lines.append(
                f"Run {res.get('run_id_a')} vs {res.get('run_id_b')}: {diffs or 'no metric differences'}."
            )
        elif r.tool_name == "simulate_scenario":
            lines.append(
                f"Scenario on run {res.get('run_id')} ({res.get('method')}, {res.get('horizon')} days): baseline "
                f"{res.get('baseline_total'):.1f} units, scenario {res.get('scenario_total'):.1f} units "
                f"({res.get('delta_pct')}% change)."
                if isinstance(res.get("baseline_total"), int | float)
                and isinstance(res.get("scenario_total"), int | float)
                else f"Scenario on run {res.get('run_id')}: {res}"
            )
        elif r.tool_name == "create_alias":
            lines.append(f"Alias {res.get('alias_name')} now points at run {res.get('run_id')}.")
        elif r.tool_name == "list_series":
            shown = "; ".join(
                f"store {s['store_id']} product {s['product_id']} ({s['days']} days)"
                for s in res.get("series", [])[:10]
            )
            lines.append(f"Series with sales: {shown or 'none'}.")
        else:
            lines.append(f"{r.tool_name}: {res}")
    return "\n".join(lines)
