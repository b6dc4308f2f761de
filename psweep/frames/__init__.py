"""Post-processing of databases with pandas: select, extract psets, edit, JSON."""

from __future__ import annotations

from psweep.frames._edit import df_ensure_dtypes, df_update_pset_cols, df_update_pset_hash
from psweep.frames._io import check_calc_dir, df_to_json, json_ready
from psweep.frames._params import df_extract_params, df_extract_pset
from psweep.frames._select import (
    df_extract_dicts,
    df_extract_row,
    df_filter_conds,
    df_print,
    filter_cols,
)

__all__ = [
    "check_calc_dir",
    "df_ensure_dtypes",
    "df_extract_dicts",
    "df_extract_params",
    "df_extract_pset",
    "df_extract_row",
    "df_filter_conds",
    "df_print",
    "df_to_json",
    "df_update_pset_cols",
    "df_update_pset_hash",
    "filter_cols",
    "json_ready",
]
