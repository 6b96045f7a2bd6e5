"""The API's documented shapes: response models (English and Persian descriptions) and the
record schema, built from the served model's contract so that ``/docs`` describes every column.

Responses are written as JSON directly (no per-request validation cost); these models are the
contract the OpenAPI document states, and the tests check responses against them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from scoring.contract import Column, Contract
from scoring.text import format_number

__all__ = [
    "BatchList",
    "BatchOut",
    "CooperativeOut",
    "ModelsOut",
    "ProgramUplift",
    "Reason",
    "ScoreResponse",
    "ScoredRecord",
    "ScoresPage",
    "WhatIfResponse",
    "record_schemas",
]


def _both(en: str, fa: str) -> str:
    return f"{en} — {fa}"


def _field(en: str, fa: str, **kwargs: Any) -> Any:
    return Field(description=_both(en, fa), **kwargs)


class Reason(BaseModel):
    code: str = _field("Stable reason code.", "کد پایدار دلیل.")
    text: str = _field("The reason in the response language.", "متن دلیل به زبان پاسخ.")


class ScoredRecord(BaseModel):
    """One record's answer: its scores, or why it was rejected."""

    model_config = ConfigDict(extra="allow")

    index: int = _field(
        "Position of the record in the request (from 0).", "جایگاه رکورد در درخواست (از ۰)."
    )
    ok: bool = _field("Scored (true) or rejected (false).", "امتیازدهی شد (true) یا رد شد (false).")
    coop_id: str | None = _field("The cooperative's registry number.", "شناسه تعاونی.")
    export_probability: float | None = _field(
        "Calibrated probability of exporting within 12 months (0-1).",
        "احتمال کالیبره‌شده صادرات در ۱۲ ماه آینده (۰ تا ۱).",
        default=None,
    )
    readiness_score: float | None = _field(
        "Readiness score 0-100 (100 x probability, one decimal).",
        "امتیاز آمادگی ۰ تا ۱۰۰.",
        default=None,
    )
    readiness_tier: str | None = _field(
        "Tier: A export-ready, B near-ready, C developing, D not ready.",
        "رده: A آماده صادرات، B نزدیک به آمادگی، C در حال توسعه، D نیازمند توسعه.",
        default=None,
    )
    tier_name: str | None = _field("The tier's name.", "نام رده.", default=None)
    reason_1: str | None = _field(
        "Strongest reason code ('' if none).", "قوی‌ترین دلیل.", default=None
    )
    reason_2: str | None = _field("Second reason code.", "دلیل دوم.", default=None)
    reason_3: str | None = _field("Third reason code.", "دلیل سوم.", default=None)
    reasons: list[Reason] | None = _field(
        "The reasons, codes and texts.", "دلیل‌ها با متن.", default=None
    )
    capacity_score: float | None = _field(
        "Capacity sub-score 0-100.", "زیرامتیاز ظرفیت.", default=None
    )
    quality_score: float | None = _field(
        "Quality sub-score 0-100.", "زیرامتیاز کیفیت.", default=None
    )
    output_score: float | None = _field(
        "Output sub-score 0-100.", "زیرامتیاز عملکرد.", default=None
    )
    market_score: float | None = _field("Market sub-score 0-100.", "زیرامتیاز بازار.", default=None)
    sector_percentile: float | None = _field(
        "Where the probability stands among the sector's training cooperatives (0-100).",
        "صدک در میان تعاونی‌های همان بخش.",
        default=None,
    )
    next_step: str | None = _field(
        "Cheapest programme that lifts the tier ('' if none).",
        "ارزان‌ترین برنامه‌ای که رده را بالا می‌برد.",
        default=None,
    )
    next_step_score: float | None = _field(
        "Score after the next step.", "امتیاز پس از گام بعدی.", default=None
    )
    next_step_cost: float | None = _field("Cost of the next step.", "هزینه گام بعدی.", default=None)
    next_step_name: str | None = _field("Name of the next step.", "نام گام بعدی.", default=None)
    errors: list[str] | None = _field(
        "Why the record was rejected (the rejects file's messages).",
        "دلیل‌های رد رکورد (همان پیام‌های فایل ردشده‌ها).",
        default=None,
    )
    ignored_fields: list[str] = _field(
        "Keys that matched no column (ignored).", "کلیدهایی که با هیچ ستونی جور نشدند.", default=[]
    )
    warnings: list[str] = _field("Warnings (e.g. unknown categories).", "هشدارها.", default=[])


class ScoreResponse(BaseModel):
    model: str = _field("The model version that scored (NAME@VERSION).", "نسخه مدل.")
    lang: str = _field("Language of texts (en or fa).", "زبان متن‌ها.")
    records: int = _field("Records received.", "تعداد رکوردهای دریافتی.")
    scored: int = _field("Records scored.", "تعداد امتیازدهی‌شده.")
    rejected: int = _field("Records rejected.", "تعداد ردشده.")
    unknown_fields: list[str] = _field(
        "Keys no column matched, over all records.", "کلیدهای ناشناخته."
    )
    stored: bool = _field("Whether the scores were stored as a batch.", "آیا در پایگاه ذخیره شد.")
    batch_id: str | None = _field("The stored batch, if stored.", "شناسه دسته ذخیره‌شده.")
    store_error: str | None = _field(
        "Why the scores were not stored.", "چرا ذخیره نشد.", default=None
    )
    results: list[ScoredRecord] = _field("One answer per record, in order.", "پاسخ هر رکورد.")


class ProgramUplift(BaseModel):
    program: str = _field("Programme id.", "شناسه برنامه.")
    name: str = _field("Programme name.", "نام برنامه.")
    name_fa: str = _field("Persian name.", "نام فارسی.")
    cost: float = _field("Cost per cooperative.", "هزینه برای هر تعاونی.")
    applies: bool = _field("Open to this cooperative and changes it.", "آیا شامل این تعاونی می‌شود.")
    probability_after: float | None = _field("Probability after it.", "احتمال پس از برنامه.")
    uplift: float = _field("Probability uplift.", "افزایش احتمال.")


class WhatIfResponse(BaseModel):
    model: str = _field("The model version.", "نسخه مدل.")
    before: ScoredRecord = _field("The record as it is.", "وضعیت فعلی.")
    after: ScoredRecord | None = _field("The record after the changes.", "پس از تغییرات.")
    uplift: dict[str, Any] | None = _field("after - before.", "تفاوت پس و پیش.")
    programs: list[ProgramUplift] = _field("Every programme's uplift.", "اثر هر برنامه.")


class BatchOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str = _field("Batch id.", "شناسه دسته.")
    created: str = _field("When it was stored (UTC).", "زمان ذخیره (UTC).")
    source: str = _field("upload, cli or api.", "منبع: بارگذاری، خط فرمان یا API.")
    file_name: str = _field("The file's name.", "نام فایل.")
    sha256: str = _field("sha256 of the file.", "چکیده sha256 فایل.")
    rows_read: int = _field("Rows read.", "سطرهای خوانده‌شده.")
    rows_scored: int = _field("Rows scored.", "سطرهای امتیازدهی‌شده.")
    rows_rejected: int = _field("Rows rejected.", "سطرهای ردشده.")
    model: str = _field("Model version that scored it.", "نسخه مدل.")
    uploaded_by: str = _field("Who stored it.", "ذخیره‌کننده.")


class BatchList(BaseModel):
    model: str = _field("The model version being served.", "نسخه مدل در حال سرویس.")
    total: int = _field("Batches in the store.", "تعداد دسته‌ها.")
    batches: list[BatchOut] = _field("Newest first.", "جدیدترین اول.")


class ScoresPage(BaseModel):
    model: str = _field("The model version being served.", "نسخه مدل در حال سرویس.")
    batch_id: str = _field("Batch id.", "شناسه دسته.")
    total: int = _field("Rows matching the filters.", "سطرهای منطبق.")
    page: int = _field("This page (from 1).", "شماره صفحه.")
    per_page: int = _field("Rows per page.", "سطر در هر صفحه.")
    scores: list[dict[str, Any]] = _field("The rows.", "سطرها.")


class CooperativeOut(BaseModel):
    model: str = _field("The model version being served.", "نسخه مدل در حال سرویس.")
    coop_id: str = _field("The cooperative.", "شناسه تعاونی.")
    latest: dict[str, Any] = _field("Its newest stored score.", "آخرین امتیاز.")
    history: list[dict[str, Any]] = _field(
        "Every stored score, newest first (date, model, score, tier, sub-scores).",
        "تاریخچه امتیازها، جدیدترین اول.",
    )


class ModelsOut(BaseModel):
    model: str = _field("The model version being served.", "نسخه مدل در حال سرویس.")
    serving: dict[str, Any] = _field(
        "What is served, since when, and the last reload.", "مدل در حال سرویس."
    )
    models: list[dict[str, Any]] = _field("Every version in the registry.", "همه نسخه‌ها.")


def record_schemas(contract: Contract) -> dict[str, dict[str, Any]]:
    """OpenAPI component schemas of a record and of the request bodies, from the contract."""
    properties = {c.name: _column_schema(c, contract) for c in contract.input_columns()}
    record = {
        "type": "object",
        "title": "CooperativeRecord",
        "description": _both(
            "One cooperative, as a row of a registry file. Keys: the contract names below, or "
            "any header the file reader accepts (Persian headers, aliases, units in brackets). "
            "Values as in files: Persian digits, yes/no words (بله/خیر), Jalali years. Unknown "
            "keys are ignored and reported.",
            "یک تعاونی، مانند یک سطر فایل. کلیدها نام ستون‌ها یا هر سرستونی که خواننده فایل "
            "می‌پذیرد؛ مقادیر مانند فایل (ارقام فارسی، بله/خیر، سال شمسی).",
        ),
        "properties": properties,
        "required": [c.name for c in contract.input_columns() if c.required],
        "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
    }
    score_request = {
        "title": "ScoreRequest",
        "oneOf": [
            {
                "type": "object",
                "properties": {
                    "records": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/CooperativeRecord"},
                        "description": _both(
                            "The records (at most the service's record limit).",
                            "رکوردها (حداکثر به اندازه سقف سرویس).",
                        ),
                    },
                    "store": {
                        "type": "boolean",
                        "default": False,
                        "description": _both(
                            "Also store the scores as a batch (source 'api').",
                            "امتیازها به صورت یک دسته ذخیره شود.",
                        ),
                    },
                },
                "required": ["records"],
            },
            {"type": "array", "items": {"$ref": "#/components/schemas/CooperativeRecord"}},
            {"$ref": "#/components/schemas/CooperativeRecord"},
        ],
    }
    what_if = {
        "title": "WhatIfRequest",
        "type": "object",
        "properties": {
            "record": {"$ref": "#/components/schemas/CooperativeRecord"},
            "changes": {
                "type": "object",
                "description": _both(
                    "Column: effect, as in a programmes file: true/false for yes/no, a number "
                    "to set, '+N'/'-N' to add, '*F' to multiply. Re-validated (caps, ranges).",
                    "ستون: اثر، مانند فایل برنامه‌ها.",
                ),
                "example": {"iso9001": True, "actual_output": "*1.2"},
            },
        },
        "required": ["record", "changes"],
    }
    return {"CooperativeRecord": record, "ScoreRequest": score_request, "WhatIfRequest": what_if}


def _column_schema(column: Column, contract: Contract) -> dict[str, Any]:
    rules = []
    if column.required:
        rules.append("required")
    for bound, word in (
        (column.min, ">="),
        (column.min_exclusive, ">"),
        (column.max, "<="),
        (column.max_exclusive, "<"),
    ):
        if bound is not None:
            rules.append(f"{word} {format_number(bound)}")
    if column.type == "category":
        vocabulary = contract.vocabularies[column.vocabulary]
        rules.append("one of: " + ", ".join(vocabulary.keys) + f" (else '{vocabulary.unknown}')")
    if column.type == "year" and column.jalali_min is not None:
        rules.append(
            f"Jalali {format_number(column.jalali_min)}-{format_number(column.jalali_max)} +621"
        )
    english = contract.feature_label(column.name, "en")
    persian = contract.feature_label(column.name, "fa")
    aliases = ", ".join(column.aliases)
    text = (
        f"{english} ({column.type}{'; ' + '; '.join(rules) if rules else ''}). "
        f"Persian header: {column.fa or '-'}. Also accepted: {aliases or '-'}"
    )
    kinds = {
        "yesno": ["boolean", "string", "integer", "null"],
        "int": ["integer", "string", "null"],
        "year": ["integer", "string", "null"],
    }
    return {
        "type": kinds.get(
            column.type,
            ["number", "string", "null"] if column.is_numeric else ["string", "integer", "null"],
        ),
        "description": _both(text, persian),
    }
