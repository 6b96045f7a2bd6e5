"""The workbench's words in English and Persian: one table, read by the pages and templates.

A key missing here is shown as it is, so a new word is visible, never an error.
"""

from __future__ import annotations

__all__ = ["LANGS", "WORDS", "word"]

#: The languages of the pages; the first is the default.
LANGS = ("fa", "en")

#: key -> (English, Persian).
WORDS: dict[str, tuple[str, str]] = {
    "app": ("Export readiness workbench", "میز کار آمادگی صادراتی"),
    "home": ("Batches", "دسته‌ها"),
    "upload": ("Upload a list", "بارگذاری فهرست"),
    "upload_help": (
        "A CSV or Excel export of the registry. It is scored and stored; then its page opens.",
        "خروجی CSV یا اکسل سامانه ثبت. امتیازدهی و ذخیره می‌شود و سپس صفحه آن باز می‌شود.",
    ),
    "file": ("File", "فایل"),
    "send": ("Score and store", "امتیازدهی و ذخیره"),
    "scoring": ("Scoring… this can take a minute for a large list.", "در حال امتیازدهی…"),
    "models": ("Models", "مدل‌ها"),
    "signin": ("Sign in", "ورود"),
    "signout": ("Sign out", "خروج"),
    "token": ("Access token", "توکن دسترسی"),
    "token_help": (
        "The token you were given (readiness tokens add).",
        "توکنی که به شما داده شده است.",
    ),
    "bad_token": ("The token is unknown or revoked.", "توکن ناشناخته یا باطل شده است."),
    "signed_in_as": ("Signed in as", "کاربر"),
    "open_mode": ("open (loopback, no tokens)", "باز (بدون توکن، فقط روی این رایانه)"),
    "forbidden": ("Your role may not open this page", "نقش شما اجازه دیدن این صفحه را ندارد"),
    "needs_role": ("It needs the role", "نقش لازم"),
    "not_found": ("Not found", "پیدا نشد"),
    "csrf": (
        "The form expired or came from another site; reload the page and try again.",
        "فرم منقضی شده یا از سایت دیگری آمده است؛ صفحه را دوباره باز کنید.",
    ),
    "no_batches": ("No batch stored yet.", "هنوز دسته‌ای ذخیره نشده است."),
    "created": ("Stored", "زمان ذخیره"),
    "source": ("Source", "منبع"),
    "model": ("Model", "مدل"),
    "rows_read": ("Rows read", "ردیف‌های خوانده‌شده"),
    "rows_scored": ("Scored", "امتیازدهی‌شده"),
    "rows_rejected": ("Rejected", "ردشده"),
    "batch": ("Batch", "دسته"),
    "tiers": ("Tier distribution", "توزیع سطح‌ها"),
    "tier": ("Tier", "سطح"),
    "province": ("Province", "استان"),
    "sector": ("Sector", "بخش"),
    "search": ("Id or name", "شناسه یا نام"),
    "sort": ("Sort by", "مرتب‌سازی"),
    "filter": ("Filter", "اعمال"),
    "any": ("any", "همه"),
    "coop_id": ("Cooperative id", "شناسه تعاونی"),
    "name": ("Name", "نام"),
    "score": ("Score", "امتیاز"),
    "probability": ("Probability", "احتمال صادرات"),
    "percentile": ("Sector percentile", "صدک در بخش"),
    "row": ("Row", "ردیف"),
    "error": ("Reason", "دلیل"),
    "rejects": ("Rejected rows", "ردیف‌های ردشده"),
    "no_rejects": ("No row was rejected.", "هیچ ردیفی رد نشد."),
    "download": ("Download", "دریافت"),
    "download_rejects": ("rejects (CSV)", "ردشده‌ها (CSV)"),
    "matching": ("matching", "مورد مطابق"),
    "page": ("Page", "صفحه"),
    "of": ("of", "از"),
    "prev": ("Previous", "قبلی"),
    "next": ("Next", "بعدی"),
    "coverage": ("Coverage", "پوشش ستون‌ها"),
    "absent": ("Columns the model uses that the file lacks", "ستون‌های مدل که فایل ندارد"),
    "unmatched": ("Headers that fed no column", "عنوان‌هایی که به هیچ ستونی نخوردند"),
    "drift": ("Drift", "جابه‌جایی توزیع"),
    "drift_ok": (
        "No input has shifted from the training data.",
        "هیچ ورودی‌ای نسبت به داده آموزش جابه‌جا نشده است.",
    ),
    "drift_bad": (
        "Inputs shifted from the training data:",
        "ورودی‌های جابه‌جاشده نسبت به داده آموزش:",
    ),
    "none": ("none", "هیچ"),
    "profile": ("Cooperative", "تعاونی"),
    "subscores": ("Sub-scores against the sector's peers", "زیرامتیازها در برابر هم‌بخش‌ها"),
    "peers": ("sector mean in this batch", "میانگین بخش در این دسته"),
    "capacity_score": ("Capacity", "ظرفیت"),
    "quality_score": ("Quality", "کیفیت"),
    "output_score": ("Output and sales", "تولید و فروش"),
    "market_score": ("Market", "بازار"),
    "reasons": ("Why this score", "دلایل این امتیاز"),
    "next_step": ("Next step", "گام بعدی"),
    "next_step_none": (
        "No programme raises this score.",
        "هیچ برنامه‌ای این امتیاز را بالا نمی‌برد.",
    ),
    "reaches": ("reaches", "می‌رسد به"),
    "cost": ("cost", "هزینه"),
    "history": ("History across batches", "سابقه در دسته‌ها"),
    "whatif": ("What if…", "اگر…"),
    "whatif_help": (
        "Change a value: the score is recomputed with the served model.",
        "مقداری را تغییر دهید: امتیاز با مدل فعلی دوباره محاسبه می‌شود.",
    ),
    "whatif_missing": (
        "This cooperative's figures were not kept (upload its list through the workbench).",
        "ارقام این تعاونی نگه داشته نشده است (فهرست را از میز کار بارگذاری کنید).",
    ),
    "whatif_role": ("What-if needs the manager role.", "«اگر» نیازمند نقش مدیر است."),
    "actual_output": ("Actual output", "تولید واقعی"),
    "installed_capacity": ("Installed capacity", "ظرفیت اسمی"),
    "iso9001": ("ISO 9001 certificate", "گواهی ایزو ۹۰۰۱"),
    "commercial_card": ("Commercial card", "کارت بازرگانی"),
    "defect_rate": ("Defect rate (%)", "نرخ ضایعات (٪)"),
    "export_markets": ("Export markets", "بازارهای صادراتی"),
    "recompute": ("Recompute", "محاسبه دوباره"),
    "before": ("Now", "اکنون"),
    "after": ("With the changes", "با تغییرها"),
    "uplift": ("Change", "تغییر"),
    "print": ("Print", "چاپ"),
    "champion": ("Champion", "مدل قهرمان"),
    "serving": ("Serving", "در حال سرویس"),
    "version": ("Version", "نسخه"),
    "promote": ("Promote", "انتخاب به عنوان قهرمان"),
    "promoted": ("Promoted", "انتخاب شد"),
    "card": ("Model card", "کارنامه مدل"),
    "language": ("فارسی", "English"),
    "main": ("Skip to content", "رفتن به محتوا"),
}


def word(key: str, lang: str) -> str:
    """``key`` in ``lang`` (``fa`` or ``en``); the key itself when not listed."""
    found = WORDS.get(key)
    if found is None:
        return key
    return found[1] if lang == "fa" else found[0]
