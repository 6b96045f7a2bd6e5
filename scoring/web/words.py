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
    "reaches": ("Reaches", "می‌رسد به"),
    "yes": ("yes", "بله"),
    "no": ("no", "خیر"),
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
    "coverage_full": (
        "The file has every column the model uses.",
        "فایل همهٔ ستون‌هایی را که مدل به کار می‌برد دارد.",
    ),
    "coverage_absent": (
        "The file lacks {count} of the columns the model uses: {columns}. They count as missing"
        " for every row, so scores that depend on them are less sure.",
        "فایل {count} ستون از ستون‌هایی را که مدل به کار می‌برد ندارد: {columns}. این ستون‌ها برای"
        " همهٔ ردیف‌ها خالی به حساب آمده‌اند و امتیازهای وابسته به آن‌ها کمتر قطعی‌اند.",
    ),
    "coverage_unmatched": (
        "{count} headers of the file fed no column and were ignored: {headers}.",
        "{count} عنوان فایل به هیچ ستونی نخورد و نادیده گرفته شد: {headers}.",
    ),
    "drift_unchecked": (
        "The drift of this list was not checked.",
        "تغییر توزیع این فهرست بررسی نشده است.",
    ),
    "one_batch": ("One batch so far.", "تاکنون تنها یک دسته."),
    "uploading": ("Uploading", "در حال بارگذاری"),
    "scoring_rows": (
        "Uploaded. Scoring and storing the list…",
        "بارگذاری شد. در حال امتیازدهی و ذخیرهٔ فهرست…",
    ),
    "plan": ("Plan", "برنامه حمایت"),
    "plan_title": ("Plan a support budget", "برنامه‌ریزی بودجهٔ حمایت"),
    "plan_help": (
        "The plan gives each cooperative of a batch at most one programme, within the budget"
        " and the programmes' slots, to raise the expected number of exporters most.",
        "برنامه به هر تعاونیِ دسته حداکثر یک برنامهٔ حمایتی می‌دهد، در حد بودجه و"
        " ظرفیت برنامه‌ها، تا شمار مورد انتظار صادرکنندگان بیشترین افزایش را داشته باشد.",
    ),
    "plan_batch": ("Cooperatives (a batch)", "تعاونی‌ها (یک دسته)"),
    "plan_no_batch": (
        "No batch has its figures kept: upload a list on the Batches page first.",
        "ارقام هیچ دسته‌ای نگه داشته نشده است: نخست فهرستی را در صفحهٔ دسته‌ها بارگذاری کنید.",
    ),
    "programs_file": ("Programmes", "برنامه‌های حمایتی"),
    "programs_example": ("the service's programmes", "برنامه‌های سرویس"),
    "programs_upload": ("a programmes file (TOML)", "فایل برنامه‌ها (TOML)"),
    "programs_none": (
        "The service has no programmes file: upload one.",
        "سرویس فایل برنامه ندارد: فایلی بارگذاری کنید.",
    ),
    "budget": ("Budget", "بودجه"),
    "budget_help": (
        "In the programmes' currency (million rials), e.g. 60,000 or ۶۰٬۰۰۰.",
        "به واحد هزینهٔ برنامه‌ها (میلیون ریال)، مثلاً ۶۰٬۰۰۰.",
    ),
    "bad_budget": (
        "The budget must be a positive number, e.g. 60,000.",
        "بودجه باید عددی مثبت باشد، مثلاً ۶۰٬۰۰۰.",
    ),
    "make_plan": ("Make the plan", "ساخت برنامه"),
    "planning": ("Planning… this can take a minute.", "در حال برنامه‌ریزی…"),
    "plan_result": ("The plan", "برنامه"),
    "plan_empty": ("Nobody can be funded", "هیچ تعاونی‌ای حمایت نمی‌شود"),
    "funded": ("Funded", "حمایت‌شده"),
    "spent": ("Spent", "هزینه‌شده"),
    "expected": ("Expected additional exporters", "صادرکنندگان تازهٔ مورد انتظار"),
    "by_program": ("By programme", "به تفکیک برنامه"),
    "by_province": ("By province", "به تفکیک استان"),
    "share": ("Share of spending", "سهم از هزینه"),
    "policies": ("Against rules of thumb", "در برابر قاعده‌های سرانگشتی"),
    "policies_help": (
        "The same budget, slots and one programme per cooperative, given out by a simple rule.",
        "همان بودجه و ظرفیت و یک برنامه برای هر تعاونی، با یک قاعدهٔ ساده.",
    ),
    "allocation": ("Allocation", "شیوهٔ تخصیص"),
    "this_plan": ("This plan", "این برنامه"),
    "funded_list": ("Funded cooperatives", "تعاونی‌های حمایت‌شده"),
    "program": ("Programme", "برنامه"),
    "cost_col": ("Cost", "هزینه"),
    "prob_change": ("Export probability", "احتمال صادرات"),
    "tier_change": ("Tier", "سطح"),
    "download_plan": ("the plan", "برنامه"),
    "new_plan": ("Another plan", "برنامهٔ دیگر"),
    "role_viewer": ("viewer", "بیننده"),
    "role_officer": ("officer", "کارشناس"),
    "role_manager": ("manager", "مدیر"),
    "role_analyst": ("analyst", "تحلیلگر"),
    "role_open": ("open", "باز"),
    "language": ("فارسی", "English"),
    "main": ("Skip to content", "رفتن به محتوا"),
}


def word(key: str, lang: str) -> str:
    """``key`` in ``lang`` (``fa`` or ``en``); the key itself when not listed."""
    found = WORDS.get(key)
    if found is None:
        return key
    return found[1] if lang == "fa" else found[0]
