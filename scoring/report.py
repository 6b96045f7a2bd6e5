"""HTML reports: a model card for analysts and a scored-batch report for managers.

Computing is apart from presenting: :func:`model_report_data` and :func:`batch_report_data`
return plain numbers (no language, no figures); :func:`render_model_report` and
:func:`render_batch_report` draw the charts (:mod:`scoring.plots`), fill a jinja2 template in
English or Persian and write one self-contained HTML file, atomically. Images are embedded as
PNG data URIs and the style sheet is inline: a report opens offline and fetches nothing.

Persian (``lang="fa"``): titles, labels, tier names and reason texts in Persian (the last two
from the contract), numbers in Persian digits, ``<html dir="rtl" lang="fa">``, and a font
stack that renders Persian (Vazirmatn, Noto Naskh Arabic, Tahoma, DejaVu Sans).
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from sklearn.metrics import precision_recall_curve, roc_auc_score, roc_curve

from scoring import plots
from scoring.compiled import FeatureTable
from scoring.contract import Contract, Reason, Vocabulary, load_contract
from scoring.drift import SHIFTED, STABLE
from scoring.errors import ContractError, InputFileError, ModelError
from scoring.evaluation import SMALL_GROUP, bootstrap_intervals, classification_metrics
from scoring.reading import open_table
from scoring.registry import LoadedModel
from scoring.text import fold_text, to_ascii_digits
from scoring.writing import atomic_path, check_output_path

__all__ = [
    "LANGUAGES",
    "batch_report_data",
    "model_report_data",
    "render_batch_report",
    "render_model_report",
]

LANGUAGES = ("en", "fa")
TIERS = ("A", "B", "C", "D")
DIMENSIONS = ("capacity", "quality", "output", "market")
#: Metrics shown with bootstrap intervals, in order; higher is better for the first three.
METRICS = ("roc_auc", "pr_auc", "ks", "brier", "log_loss", "ece")
_HIGHER_BETTER = {"roc_auc", "pr_auc", "ks"}
_SCORED_REQUIRED = ("coop_id", "export_probability", "readiness_tier")
_NUMERIC_SCORED = (
    "export_probability",
    "readiness_score",
    "capacity_score",
    "quality_score",
    "output_score",
    "market_score",
    "sector_percentile",
)

# --------------------------------------------------------------------------------------------
# Words of the reports. Column names, categories, tiers and reasons come from the contract;
# the derived features and the report's own words are here.

_FEATURES = {
    "utilization": ("Capacity utilization", "میزان استفاده از ظرفیت"),
    "dormant_capacity_share": ("Dormant share of capacity", "سهم ظرفیت راکد"),
    "export_intensity": ("Export share of sales", "سهم صادرات از فروش"),
    "revenue_growth": ("Sales growth", "رشد فروش"),
    "revenue_per_employee": ("Sales per employee", "فروش سرانه کارکنان"),
    "coop_age": ("Age of the cooperative (years)", "سن تعاونی (سال)"),
    "certification_count": ("Certificates held", "تعداد گواهی‌ها"),
    "members": ("Members", "تعداد اعضا"),
    "employees": ("Employees", "تعداد کارکنان"),
    "revenue": ("Sales (million rials)", "فروش (میلیون ریال)"),
    "product_lines": ("Product lines", "تعداد محصولات"),
    "export_markets": ("Export markets", "تعداد بازارهای صادراتی"),
    "iso9001": ("ISO 9001", "ایزو ۹۰۰۱"),
    "intl_certifications": ("International certificates", "گواهینامه‌های بین‌المللی"),
    "standard_mark": ("National standard mark", "نشان استاندارد"),
    "defect_rate": ("Defect rate", "نرخ ضایعات"),
    "debt_ratio": ("Debt / assets", "نسبت بدهی"),
    "commercial_card": ("Commercial card", "کارت بازرگانی"),
    "sector": ("Sector", "بخش"),
    "province": ("Province", "استان"),
}

_WORDS: dict[str, tuple[str, str]] = {
    # titles
    "model_title": ("Model report", "گزارش مدل"),
    "batch_title": ("Scored batch report", "گزارش امتیازدهی فهرست تعاونی‌ها"),
    "subtitle_model": (
        "Calibrated probability that a production cooperative exports within 12 months",
        "احتمال کالیبره‌شدهٔ صادرات یک تعاونی تولیدی در ۱۲ ماه آینده",
    ),
    "subtitle_batch": (
        "Export readiness of the cooperatives in one scored list",
        "آمادگی صادراتی تعاونی‌های یک فهرست امتیازدهی‌شده",
    ),
    "contents": ("Contents", "فهرست"),
    "generated": ("Generated", "تاریخ تهیه"),
    "model": ("Model", "مدل"),
    "source": ("Source", "منبع"),
    # model sections
    "sec_data": ("Data", "داده‌ها"),
    "sec_metrics": ("Holdout metrics", "معیارهای عملکرد روی داده‌های آزمون"),
    "sec_curves": ("ROC and precision-recall curves", "منحنی‌های ROC و دقت-بازیابی"),
    "sec_calibration": ("Calibration", "کالیبراسیون"),
    "sec_distributions": ("Score distributions by outcome", "توزیع احتمال به تفکیک نتیجه"),
    "sec_contributions": ("How each feature moves the score", "اثر هر ویژگی بر امتیاز"),
    "sec_groups": ("Metrics by sector and province", "معیارها به تفکیک بخش و استان"),
    "sec_tiers": ("Tiers", "سطح‌های آمادگی"),
    "sec_selection": ("Model selection", "انتخاب مدل"),
    "sec_baseline": ("Glass-box model against the baseline", "مدل شفاف در برابر مدل پایه"),
    "sec_truth": (
        "Against the known truth (sample data)",
        "مقایسه با احتمال واقعی (داده‌های نمونه)",
    ),
    "sec_limitations": ("Known limitations", "محدودیت‌های شناخته‌شده"),
    "sec_manifest": ("Manifest facts", "مشخصات فنی مدل"),
    # batch sections
    "sec_overview": ("Overview", "خلاصه"),
    "sec_tier_counts": ("Tier counts", "تعداد تعاونی‌ها در هر سطح"),
    "sec_distribution": ("Score distribution", "توزیع امتیاز آمادگی"),
    "sec_provinces": ("Tiers by province", "سطح‌ها به تفکیک استان"),
    "sec_sectors": ("Tiers by sector", "سطح‌ها به تفکیک بخش"),
    "sec_reasons": ("Most common reasons", "رایج‌ترین دلایل"),
    "sec_subscores": ("Sub-score profile per sector", "نیم‌رخ امتیاز ابعاد به تفکیک بخش"),
    "sec_drift": ("Drift against the training data", "تغییر توزیع نسبت به داده‌های آموزش"),
    "sec_top": ("Top cooperatives per province", "برترین تعاونی‌های هر استان"),
    # data facts
    "rows": ("rows", "تعداد ردیف"),
    "rows_total": ("labelled rows", "ردیف‌های برچسب‌دار"),
    "rows_train": ("training rows", "ردیف‌های آموزش"),
    "rows_holdout": ("holdout rows", "ردیف‌های آزمون"),
    "label_rate": ("label rate (exported)", "نرخ صادرات (برچسب)"),
    "label_rate_holdout": ("holdout label rate", "نرخ صادرات در داده‌های آزمون"),
    "holdout_split": ("holdout split", "روش جدا کردن داده‌های آزمون"),
    "data_year": ("data year (ages counted to)", "سال داده (مبنای محاسبه سن)"),
    "trained_on": ("trained", "تاریخ آموزش"),
    "fingerprint": ("training-data fingerprint (sha256)", "اثر انگشت داده‌های آموزش (sha256)"),
    "positives": ("exporters", "صادرکنندگان"),
    # metrics
    "metric": ("metric", "معیار"),
    "value": ("value", "مقدار"),
    "interval": ("95% interval", "بازه اطمینان ۹۵٪"),
    "glassbox": ("glass-box", "مدل شفاف"),
    "baseline": ("baseline", "مدل پایه"),
    "difference": ("difference", "تفاوت"),
    "better": ("better", "بهتر است"),
    "m_roc_auc": ("ROC AUC", "سطح زیر منحنی ROC"),
    "m_pr_auc": ("PR AUC (average precision)", "سطح زیر منحنی دقت-بازیابی"),
    "m_ks": ("KS", "آماره KS"),
    "m_brier": ("Brier score", "امتیاز بریر"),
    "m_log_loss": ("log loss", "زیان لگاریتمی"),
    "m_ece": ("calibration error (ECE, 10 bins)", "خطای کالیبراسیون در ۱۰ بازه (ECE)"),
    "higher_better": ("higher is better", "بیشتر بهتر است"),
    "lower_better": ("lower is better", "کمتر بهتر است"),
    "metrics_note": (
        "Percentile bootstrap over the holdout rows ({rounds} resamples). The difference is "
        "glass-box minus baseline on the same resamples (paired).",
        "بازه‌ها با بوت‌استرپ صدکی روی ردیف‌های آزمون ({rounds} نمونه‌گیری). تفاوت، مدل شفاف "
        "منهای مدل پایه روی همان نمونه‌هاست (جفتی).",
    ),
    # curves
    "roc": ("ROC curve", "منحنی ROC"),
    "pr": ("Precision-recall curve", "منحنی دقت-بازیابی"),
    "fpr": ("false positive rate", "نرخ مثبت کاذب"),
    "tpr": ("true positive rate (recall)", "نرخ مثبت صحیح (بازیابی)"),
    "recall": ("recall", "بازیابی"),
    "precision": ("precision", "دقت"),
    "base_rate": ("base rate", "نرخ پایه"),
    "truth": ("true probability", "احتمال واقعی"),
    "reliability": ("Reliability diagram", "نمودار اعتمادپذیری"),
    "predicted": ("predicted probability", "احتمال پیش‌بینی‌شده"),
    "observed": ("observed exporting rate", "نرخ مشاهده‌شدهٔ صادرات"),
    "share_rows": ("share of rows", "سهم ردیف‌ها"),
    "ideal": ("perfect calibration", "کالیبراسیون کامل"),
    "calibration_note": (
        "Holdout rows in ten equal-count bins of predicted probability; bars are 95% (Wilson) "
        "intervals of the observed rate. Points on the diagonal mean the probabilities can be "
        "read as rates. Platt calibration: slope {slope}, intercept {intercept}.",
        "ردیف‌های آزمون در ده بازهٔ هم‌تعداد از احتمال پیش‌بینی‌شده؛ خطوط عمودی بازهٔ ۹۵٪ "
        "(ویلسون) نرخ مشاهده‌شده‌اند. نقاط روی قطر یعنی احتمال‌ها را می‌توان نرخ خواند. "
        "کالیبراسیون پلات: شیب {slope}، عرض از مبدأ {intercept}.",
    ),
    "outcomes": ("Predicted probability by outcome", "احتمال پیش‌بینی‌شده به تفکیک نتیجه"),
    "density": ("density", "چگالی"),
    "exported": ("exported", "صادر کرد"),
    "not_exported": ("did not export", "صادر نکرد"),
    "distributions_note": (
        "The further apart the two distributions, the better the model separates exporters "
        "from the rest (KS = {ks}: the largest gap between their cumulative distributions).",
        "هرچه دو توزیع از هم دورتر باشند، مدل صادرکنندگان را بهتر از بقیه جدا می‌کند "
        "(KS = {ks}: بیشترین فاصلهٔ توزیع‌های تجمعی).",
    ),
    # contributions
    "contributions_note": (
        "The model is additive: its log-odds are an intercept ({intercept}) plus one "
        "contribution per feature (plus the declared pair). Each chart is read straight from "
        "the compiled lookup tables the scorer uses. Shaded: where the middle 80% of training "
        "cooperatives lie; ticks: training deciles; the diamond: the contribution when the "
        "value is missing. Ordered by how much the contribution varies across training "
        "cooperatives.",
        "مدل جمعی است: لگاریتم بخت برابر است با عرض از مبدأ ({intercept}) به‌علاوهٔ سهم هر "
        "ویژگی (و زوج اعلام‌شده). هر نمودار مستقیماً از جدول‌های فشردهٔ امتیازدهی خوانده شده "
        "است. ناحیهٔ سایه‌دار: محدودهٔ ۸۰٪ میانی تعاونی‌های آموزش؛ خط‌های کوچک: دهک‌ها؛ لوزی: "
        "سهم ویژگی وقتی مقدار آن گزارش نشده است. ترتیب بر اساس میزان تغییر سهم ویژگی در میان "
        "تعاونی‌های آموزش است.",
    ),
    "logodds": ("contribution to log-odds", "سهم در لگاریتم بخت"),
    "logodds_short": ("log-odds", "لگاریتم بخت"),
    "missing": ("missing", "گزارش نشده"),
    "middle80": ("middle 80% of training", "۸۰٪ میانی داده‌های آموزش"),
    "spread": ("typical effect ±{value} log-odds", "اثر معمول ±{value} در لگاریتم بخت"),
    "monotone_up": (
        "constrained: never lowers the score as it grows",
        "محدود: با افزایش آن امتیاز کم نمی‌شود",
    ),
    "monotone_down": (
        "constrained: never raises the score as it grows",
        "محدود: با افزایش آن امتیاز زیاد نمی‌شود",
    ),
    "paired_with": (
        "also interacts with {other} (see the pair below)",
        "با {other} نیز برهم‌کنش دارد (زوج پایین را ببینید)",
    ),
    "unused": ("not used by the model (flat)", "مدل از آن استفاده نکرده است (ثابت)"),
    "pair_title": ("{first} × {second}: joint contribution", "{first} × {second}: سهم مشترک"),
    "pair_note": (
        "Main effects plus the learnt interaction, in log-odds, for each combination.",
        "اثرهای اصلی به‌علاوهٔ برهم‌کنش آموخته‌شده، در لگاریتم بخت، برای هر ترکیب.",
    ),
    "no": ("no", "خیر"),
    "yes": ("yes", "بله"),
    "all_values": ("all values", "همه مقادیر"),
    # groups
    "group": ("group", "گروه"),
    "rate_observed": ("exporting rate", "نرخ صادرات"),
    "mean_predicted": ("mean predicted", "میانگین پیش‌بینی"),
    "small": ("small", "کوچک"),
    "small_group": ("small group", "گروه کوچک"),
    "groups_note": (
        "Holdout rows. A group is marked small when it has fewer than {small} rows or fewer "
        "than 10 of either outcome: read its figures with care.",
        "ردیف‌های آزمون. گروهی که کمتر از {small} ردیف یا کمتر از ۱۰ مورد از هر نتیجه دارد "
        "«کوچک» علامت خورده است: ارقام آن را با احتیاط بخوانید.",
    ),
    "by_sector": ("By sector", "به تفکیک بخش"),
    "by_province": ("By province", "به تفکیک استان"),
    # tiers
    "tier": ("tier", "سطح"),
    "cutoff": ("probability from", "احتمال از"),
    "share": ("share", "سهم"),
    "precision_at": ("precision at or above", "دقت این سطح و بالاتر"),
    "recall_at": ("recall at or above", "بازیابی این سطح و بالاتر"),
    "tiers_chart": ("Share of holdout rows per tier", "سهم ردیف‌های آزمون در هر سطح"),
    "exporting": ("exporting", "صادرات"),
    "tiers_note": (
        "Tier cut-offs are lower bounds of the calibrated probability. 'Precision at or above' "
        "is the exporting rate among rows in this tier or a better one; 'recall' the share of "
        "all exporters they include.",
        "آستانهٔ هر سطح، کران پایین احتمال کالیبره‌شده است. «دقت این سطح و بالاتر» نرخ صادرات "
        "در میان ردیف‌های این سطح یا سطح‌های بهتر است و «بازیابی» سهم همهٔ صادرکنندگان که "
        "در آن‌ها قرار دارند.",
    ),
    # selection
    "candidate": ("candidate", "مدل نامزد"),
    "settings": ("settings", "تنظیمات"),
    "cv_log_loss": ("CV log loss", "زیان لگاریتمی اعتبارسنجی"),
    "cv_roc_auc": ("CV ROC AUC", "ROC AUC اعتبارسنجی"),
    "seconds": ("seconds", "ثانیه"),
    "chosen": ("chosen", "انتخاب‌شده"),
    "selection_note": (
        "Five-fold cross-validation on the training rows; the lowest log loss is chosen.",
        "اعتبارسنجی متقابل پنج‌بخشی روی ردیف‌های آموزش؛ کمترین زیان لگاریتمی انتخاب می‌شود.",
    ),
    "glass-box boosting": ("glass-box boosting", "تقویت گرادیان شفاف"),
    "spline logistic baseline": ("spline logistic baseline", "مدل پایه لجستیک با اسپلاین"),
    "baseline_note": (
        "The baseline is a transparent additive model (natural splines of each number, one-hot "
        "categories, logistic regression). The glass-box model earns its place if it is at "
        "least as good, with its exact per-feature explanations.",
        "مدل پایه یک مدل جمعی شفاف است (اسپلاین طبیعی برای هر عدد، کدگذاری یک‌داغ برای "
        "دسته‌ها، رگرسیون لجستیک). مدل شفاف وقتی جایگاه خود را دارد که دست‌کم به همین خوبی "
        "باشد، همراه با توضیح دقیق سهم هر ویژگی.",
    ),
    # truth
    "bayes_auc": ("Bayes AUC (the truth's own AUC)", "AUC بیز (AUC احتمال واقعی)"),
    "auc_gap": ("gap to the Bayes AUC", "فاصله تا AUC بیز"),
    "mean_abs_error": ("mean |p − p_true|", "میانگین |p − p_true|"),
    "p90_abs_error": ("90th percentile |p − p_true|", "صدک ۹۰ |p − p_true|"),
    "truth_scatter": ("Predicted against true probability", "احتمال پیش‌بینی‌شده در برابر واقعی"),
    "truth_note": (
        "The sample data come from a known generative model, so each holdout row's true "
        "probability is known: the closer the points to the diagonal, the better.",
        "داده‌های نمونه از یک مدل مولد معلوم می‌آیند و احتمال واقعی هر ردیف آزمون معلوم است: "
        "هرچه نقاط به قطر نزدیک‌تر باشند بهتر است.",
    ),
    # limitations
    "lim_extrapolation": (
        "Learnt from registry records: a cooperative unlike any in training (a new sector, an "
        "extreme size) gets the nearest learnt value, not an extrapolation.",
        "آموخته از سوابق ثبتی: تعاونی‌ای که به هیچ نمونهٔ آموزشی شبیه نیست (بخشی تازه، اندازه‌ای "
        "بسیار بزرگ یا کوچک) نزدیک‌ترین مقدار آموخته را می‌گیرد، نه برون‌یابی.",
    ),
    "lim_drift": (
        "Calibration holds for the population the model was trained on; check the drift "
        "table (PSI) of every scored batch from another year or region.",
        "کالیبراسیون برای جمعیتی برقرار است که مدل روی آن آموزش دیده است؛ جدول تغییر توزیع "
        "(PSI) هر فهرست از سال یا منطقه‌ای دیگر را بررسی کنید.",
    ),
    "lim_reasons": (
        "Reasons compare with the median exporting cooperative: they say what the model "
        "weighs, not what causes exporting.",
        "دلایل با تعاونی صادرکنندهٔ میانه مقایسه می‌شوند: نشان می‌دهند مدل به چه وزن می‌دهد، "
        "نه اینکه چه چیزی باعث صادرات می‌شود.",
    ),
    "lim_random_split": (
        "The holdout is a random split of the same period ({split}): performance on a later "
        "year may be lower.",
        "داده‌های آزمون تقسیم تصادفی همان دوره است ({split}): عملکرد روی سال بعد ممکن است "
        "کمتر باشد.",
    ),
    "lim_small_groups": (
        "Small holdout groups, whose figures are uncertain: {groups}.",
        "گروه‌های کوچک در داده‌های آزمون که ارقامشان نامطمئن است: {groups}.",
    ),
    "lim_sample": (
        "Trained on synthetic sample data (true probabilities known): its numbers describe the "
        "sample's generative model, not a real registry.",
        "آموزش‌دیده روی داده‌های نمونهٔ ساختگی (با احتمال واقعی معلوم): ارقام آن مدل مولد "
        "نمونه را توصیف می‌کنند، نه یک ثبت واقعی.",
    ),
    "lim_baseline": (
        "On this holdout the baseline's ROC AUC is not worse ({difference}): the glass-box "
        "model is kept for its exact explanations, not for accuracy.",
        "روی این داده‌های آزمون ROC AUC مدل پایه بدتر نیست ({difference}): مدل شفاف برای "
        "توضیح‌های دقیقش نگه داشته می‌شود، نه برای دقت بیشتر.",
    ),
    "lim_calibration": (
        "Calibration error on the holdout is {ece} (above 0.05): probabilities are rough.",
        "خطای کالیبراسیون روی داده‌های آزمون {ece} است (بیش از ۰٫۰۵): احتمال‌ها تقریبی‌اند.",
    ),
    # manifest
    "fact": ("fact", "مشخصه"),
    "reference": ("reference", "شناسه مدل"),
    "created": ("created", "تاریخ ساخت"),
    "seed": ("random seed", "بذر تصادفی"),
    "signed": ("signed (HMAC-SHA256)", "امضاشده (HMAC-SHA256)"),
    "checksum": ("manifest checksum", "چکیدهٔ مانیفست"),
    "compiled_diff": (
        "largest |compiled − pipeline| probability (holdout)",
        "بیشترین اختلاف احتمال جدول‌ها و پایپ‌لاین (آزمون)",
    ),
    "contract_version": ("contract version", "نسخهٔ قرارداد داده"),
    "tier_cutoffs": ("tier cut-offs", "آستانه‌های سطح"),
    "training_seconds": ("training time (s)", "زمان آموزش (ثانیه)"),
    "libraries": ("Library versions", "نسخهٔ کتابخانه‌ها"),
    "library": ("library", "کتابخانه"),
    "version": ("version", "نسخه"),
    "files": ("Files (sha256)", "فایل‌ها (sha256)"),
    "file": ("file", "فایل"),
    "warnings": ("Warnings", "هشدارها"),
    "no_holdout": (
        "This model has no holdout file: curves, intervals and distributions are not available.",
        "این مدل فایل داده‌های آزمون ندارد: منحنی‌ها، بازه‌ها و توزیع‌ها در دسترس نیستند.",
    ),
    # batch
    "rows_read": ("rows read", "ردیف‌های خوانده‌شده"),
    "rows_scored": ("rows scored", "ردیف‌های امتیازدهی‌شده"),
    "rows_rejected": ("rows rejected", "ردیف‌های ردشده"),
    "mean_probability": ("mean probability", "میانگین احتمال"),
    "count": ("count", "تعداد"),
    "cooperatives": ("cooperatives", "تعاونی"),
    "score": ("readiness score", "امتیاز آمادگی"),
    "score_short": ("score", "امتیاز"),
    "score_hist": ("Readiness score (0-100) by tier", "امتیاز آمادگی (۰ تا ۱۰۰) به تفکیک سطح"),
    "tier_counts_chart": ("Cooperatives per tier", "تعداد تعاونی‌ها در هر سطح"),
    "share_of_group": ("share of the group's cooperatives", "سهم از تعاونی‌های گروه"),
    "tiers_by_province": ("Tier mix per province", "ترکیب سطح‌ها در هر استان"),
    "tiers_by_sector": ("Tier mix per sector", "ترکیب سطح‌ها در هر بخش"),
    "groups_sorted": (
        "Sorted by the share of tiers A and B (export-ready or near-ready).",
        "مرتب بر اساس سهم سطح‌های A و B (آماده یا نزدیک به آمادگی).",
    ),
    "reason": ("reason", "دلیل"),
    "code": ("code", "کد"),
    "as_first": ("first reason", "دلیل اول"),
    "in_top3": ("among the three", "در میان سه دلیل"),
    "reasons_chart": ("Most common first reasons", "رایج‌ترین دلیل‌های اول"),
    "reasons_note": (
        "A reason is a feature that pulls this cooperative's probability down against the "
        "median exporting cooperative; the first reason pulls hardest.",
        "دلیل، ویژگی‌ای است که احتمال این تعاونی را در مقایسه با تعاونی صادرکنندهٔ میانه پایین "
        "می‌کشد؛ دلیل اول بیشترین اثر را دارد.",
    ),
    "subscores_chart": (
        "Mean sub-score (0-100) per sector",
        "میانگین امتیاز ابعاد (۰ تا ۱۰۰) در هر بخش",
    ),
    "subscores_note": (
        "0 means the worst value the model knows on every feature of the dimension, 100 the best.",
        "۰ یعنی بدترین مقدار شناخته‌شده برای همهٔ ویژگی‌های آن بعد و ۱۰۰ یعنی بهترین.",
    ),
    "all_sectors": ("all", "همه"),
    "dim_capacity": ("capacity", "ظرفیت"),
    "dim_quality": ("quality", "کیفیت"),
    "dim_output": ("output & sales", "تولید و فروش"),
    "dim_market": ("market", "بازار"),
    "feature": ("feature", "ویژگی"),
    "psi": ("PSI", "PSI"),
    "verdict": ("verdict", "ارزیابی"),
    "v_stable": ("stable", "پایدار"),
    "v_investigate": ("investigate", "نیازمند بررسی"),
    "v_shifted": ("shifted", "تغییر یافته"),
    "drift_chart": ("Population stability index per feature", "شاخص پایداری جمعیت برای هر ویژگی"),
    "drift_note": (
        "PSI of each model feature against the training data: below 0.1 stable, 0.1-0.25 "
        "investigate, above 0.25 shifted (the scores of shifted rows are less reliable).",
        "PSI هر ویژگی مدل نسبت به داده‌های آموزش: کمتر از ۰٫۱ پایدار، ۰٫۱ تا ۰٫۲۵ نیازمند "
        "بررسی، بیشتر از ۰٫۲۵ تغییر یافته (امتیاز ردیف‌های تغییر یافته کم‌اعتمادتر است).",
    ),
    "no_summary": (
        "No scoring summary was given: pass the JSON written by `readiness score --summary` "
        "to see drift.",
        "خلاصهٔ امتیازدهی داده نشده است: برای دیدن تغییر توزیع، فایل JSON حاصل از "
        "`readiness score --summary` را بدهید.",
    ),
    "no_column": (
        "The scored file has no '{column}' column: score with `--keep-columns "
        "name,province,sector` to see this section.",
        "فایل امتیازها ستون «{column}» ندارد: برای دیدن این بخش با `--keep-columns "
        "name,province,sector` امتیازدهی کنید.",
    ),
    "unknown_categories": (
        "Unknown categories (counted as 'other')",
        "دسته‌های ناشناخته (به‌عنوان «سایر»)",
    ),
    "problems": ("Most common problems of rejected rows", "رایج‌ترین مشکلات ردیف‌های ردشده"),
    "rank": ("#", "ردیف"),
    "coop_id": ("cooperative id", "شناسه تعاونی"),
    "name": ("name", "نام"),
    "sector": ("sector", "بخش"),
    "province": ("province", "استان"),
    "top_note": (
        "The {top} highest probabilities in each province.",
        "{top} تعاونی با بیشترین احتمال در هر استان.",
    ),
    "none": ("none", "هیچ"),
    "n_of_m": ("{n} of {m} groups", "{n} گروه از {m} گروه"),
}

_BATCH_SECTIONS = (
    "overview",
    "tiers",
    "distribution",
    "provinces",
    "sectors",
    "reasons",
    "subscores",
    "drift",
    "top",
)
_VERDICT_COLORS = {"stable": "ok", "investigate": "warn", "shifted": "bad"}

_STYLE = """
:root { --ink:#111827; --muted:#6b7280; --line:#e5e7eb; --accent:#1f4e79; --soft:#f1f5f9;
  --A:#1b7837; --B:#7fbf7b; --C:#f1a340; --D:#b2182b; }
* { box-sizing: border-box; }
body { margin:0; color:var(--ink); background:#f8fafc; font-family:var(--font); line-height:1.55;
  font-size:15px; }
header.top { background:var(--accent); color:#fff; padding:22px 32px 18px; }
header.top h1 { margin:0 0 4px; font-size:1.6rem; font-weight:600; }
header.top p { margin:2px 0; opacity:.9; }
main { max-width:1200px; margin:0 auto; padding:8px 24px 48px; }
nav.toc { background:#fff; border:1px solid var(--line); border-radius:8px; padding:10px 16px;
  margin:16px 0; font-size:.9rem; }
nav.toc ol { margin:4px 0 0; padding-inline-start:20px; columns:3 220px; }
nav.toc a { color:var(--accent); text-decoration:none; }
html[lang="fa"] nav.toc ol { list-style-type:persian; }
section { background:#fff; border:1px solid var(--line); border-radius:8px; padding:14px 20px 18px;
  margin:16px 0; }
h2 { font-size:1.2rem; margin:0 0 10px; padding-bottom:6px; border-bottom:2px solid var(--accent);
  color:var(--accent); }
h3 { font-size:1rem; margin:14px 0 6px; }
p.note, p.lead { color:var(--muted); font-size:.88rem; margin:4px 0 10px; max-width:90ch; }
.kpis { display:grid; grid-template-columns:repeat(auto-fill, minmax(170px, 1fr)); gap:10px;
  margin:6px 0 12px; }
.kpi { border:1px solid var(--line); border-radius:6px; padding:8px 12px; background:var(--soft); }
.kpi > span { display:block; color:var(--muted); font-size:.8rem; }
.kpi b { font-size:1.35rem; font-weight:600; }
.kpi.A { border-top:4px solid var(--A); } .kpi.B { border-top:4px solid var(--B); }
.kpi.C { border-top:4px solid var(--C); } .kpi.D { border-top:4px solid var(--D); }
.figs { display:flex; flex-wrap:wrap; gap:14px; align-items:flex-start; }
figure { margin:0; }
figure img { display:block; max-width:100%; height:auto; }
figcaption { color:var(--muted); font-size:.8rem; margin-top:2px; max-width:60ch; }
.features { display:grid; grid-template-columns:repeat(auto-fill, minmax(370px, 1fr)); gap:14px;
  grid-auto-flow:row dense; }
.feature { border:1px solid var(--line); border-radius:6px; padding:8px 10px; }
.feature h3 { margin:0; font-size:.95rem; }
.feature .meta { color:var(--muted); font-size:.78rem; margin:0 0 4px; }
table { border-collapse:collapse; font-size:.85rem; margin:4px 0 10px; }
th, td { padding:4px 9px; border-bottom:1px solid var(--line); text-align:start;
  vertical-align:top; }
th { background:var(--soft); font-weight:600; }
td.n, th.n { text-align:end; font-variant-numeric:tabular-nums; white-space:nowrap; }
tr.small td { color:var(--muted); font-style:italic; }
.pill { display:inline-block; padding:0 8px; border-radius:10px; font-size:.78rem; color:#fff; }
.pill.A { background:var(--A); } .pill.B { background:var(--B); color:#052e16; }
.pill.C { background:var(--C); color:#431407; } .pill.D { background:var(--D); }
.pill.ok { background:#16a34a; } .pill.warn { background:#d97706; }
.pill.bad { background:#b91c1c; }
.pill.muted { background:#9ca3af; }
.ltr { direction:ltr; unicode-bidi:isolate; display:inline-block; }
code, .mono { font-family:'DejaVu Sans Mono', Consolas, monospace; font-size:.8rem; }
code.hash { word-break:break-all; }
.alert { background:#fff7ed; border-inline-start:4px solid #f59e0b; padding:6px 12px;
  margin:8px 0; font-size:.88rem; }
.two { display:flex; flex-wrap:wrap; gap:10px 28px; align-items:flex-start; }
.two > * { min-width:0; max-width:100%; }
.row { display:flex; flex-wrap:wrap; gap:0 16px; align-items:stretch; }
.row > section { flex:1 1 480px; min-width:0; }
.feature.wide { grid-column:1 / -1; }
td.label, th.label { white-space:nowrap; }
.cards { display:grid; grid-template-columns:repeat(auto-fill, minmax(500px, 1fr)); gap:12px; }
.card { border:1px solid var(--line); border-radius:6px; padding:6px 10px; overflow-x:auto; }
.card td.reason { font-size:.75rem; color:#374151; }
span.sub { display:block; color:var(--muted); font-size:.72rem; }
.card h3 { margin:2px 0 4px; font-size:.95rem; }
.card table { width:100%; margin:0; font-size:.8rem; }
ul.limits li { margin:3px 0; }
footer { color:var(--muted); font-size:.8rem; text-align:center; padding:8px; }
@media print { body { background:#fff; } section, .feature, .card { break-inside:avoid; }
  nav.toc { display:none; } }
"""

_FONTS = {
    "en": "'Segoe UI', Roboto, 'Helvetica Neue', Arial, 'DejaVu Sans', 'Vazirmatn', "
    "'Noto Naskh Arabic', Tahoma, sans-serif",
    "fa": "'Vazirmatn', 'Noto Naskh Arabic', 'Noto Sans Arabic', Tahoma, 'DejaVu Sans', sans-serif",
}


class _Local:
    """The report's words and numbers in one language."""

    def __init__(self, lang: str, contract: Contract) -> None:
        if lang not in LANGUAGES:
            raise ValueError(f"language '{lang}' is not supported; use one of {LANGUAGES}")
        self.lang = lang
        self.fa = lang == "fa"
        self.contract = contract
        self._reasons = _reason_lookup(contract)

    def t(self, key: str, **values: Any) -> str:
        """A word or sentence; ``values`` fill its ``{placeholders}``."""
        pair = _WORDS.get(key)
        text = key if pair is None else pair[1 if self.fa else 0]
        return text.format(**values) if values else text

    def feature(self, name: str) -> str:
        pair = _FEATURES.get(name)
        if pair is not None:
            return pair[1 if self.fa else 0]
        if name in self.contract.names:
            column = self.contract.column(name)
            if self.fa and column.fa:
                return column.fa
        return name.replace("_", " ")

    def category(self, column: str, key: Any) -> str:
        vocabulary = _vocabulary(self.contract, column)
        text = str(key)
        if vocabulary is None:
            return text
        if text == vocabulary.unknown:
            return "سایر" if self.fa else text.capitalize()
        if self.fa:
            return vocabulary.label(text, self.lang)
        words = text.replace("_", " ")
        return words.title() if column == "province" else words[:1].upper() + words[1:]

    def tier(self, tier: str) -> str:
        return self.contract.tier_label(tier, self.lang)

    def reason(self, value: Any) -> tuple[str, str]:
        """``(code, text)`` of a reason cell written as a code or as an English/Persian text."""
        text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
        if not text.strip():
            return "", ""
        reason = self._reasons.get(fold_text(text))
        if reason is None:
            return text, text
        return reason.code, reason.text(self.lang)

    def digits(self, text: str) -> str:
        """ASCII digits as Persian ones in Persian, the number isolated left-to-right so that a
        sign or percent sign stays where it belongs in right-to-left text."""
        return plots.localize_number(text, self.lang)

    def num(self, value: Any, places: int = 3) -> str:
        if value is None or (isinstance(value, float) and not np.isfinite(value)):
            return "–"
        return self.digits(f"{float(value):,.{places}f}")

    def pct(self, value: Any, places: int = 1) -> str:
        if value is None or (isinstance(value, float) and not np.isfinite(value)):
            return "–"
        return self.digits(f"{100 * float(value):.{places}f}%")

    def count(self, value: Any) -> str:
        if value is None:
            return "–"
        return self.digits(f"{int(value):,}")

    def interval(self, pair: Sequence[float] | None, places: int = 3) -> str:
        if not pair:
            return "–"
        return f"{self.num(pair[0], places)} – {self.num(pair[1], places)}"


def _vocabulary(contract: Contract, column: str) -> Vocabulary | None:
    if column not in contract.names:
        return None
    name = contract.column(column).vocabulary
    return contract.vocabularies.get(name) if name else None


def _reason_lookup(contract: Contract) -> dict[str, Reason]:
    """Every spelling of every reason (code, English, Persian), folded, to its reason."""
    lookup: dict[str, Reason] = {}
    for sides in contract.reasons.values():
        for reason in sides.values():
            for spelling in (reason.code, reason.en, reason.fa):
                lookup.setdefault(fold_text(spelling), reason)
    return lookup


# --------------------------------------------------------------------------------------------
# The model report


def model_report_data(loaded: LoadedModel, *, rounds: int = 200, seed: int = 0) -> dict[str, Any]:
    """Everything the model report shows, as plain numbers (no language, no figures).

    Parameters
    ----------
    loaded
        A verified model (:func:`scoring.registry.load_model`).
    rounds
        Bootstrap resamples of the holdout for the confidence intervals.
    seed
        Seed of the resampling.
    """
    manifest = loaded.manifest
    metrics = manifest.get("metrics", {})
    baseline = manifest.get("baseline_metrics", {})
    holdout = _read_holdout(loaded)
    data: dict[str, Any] = {
        "reference": loaded.reference,
        "created": manifest.get("created", ""),
        "training": manifest.get("training", {}),
        "reference_year": manifest.get("features", {}).get("reference_year"),
        "overall": metrics.get("overall", {}),
        "baseline_overall": baseline.get("overall", {}),
        "has_holdout": holdout is not None,
        "rounds": rounds,
    }
    data["metrics"] = _metric_rows(holdout, metrics, baseline, rounds=rounds, seed=seed)
    if holdout is not None:
        data.update(_holdout_figures(holdout))
    data["contributions"] = _contributions(loaded)
    data["pairs"] = _pairs(loaded)
    data["intercept"] = float(loaded.scorer.intercept)
    data["groups"] = {
        name: sorted(rows, key=lambda r: -r["rows"])
        for name, rows in metrics.get("groups", {}).items()
    }
    data["tiers"] = metrics.get("tiers", [])
    data["baseline_tiers"] = baseline.get("tiers", [])
    data["selection"] = manifest.get("model_selection", [])
    data["truth"] = metrics.get("truth")
    data["baseline_truth"] = baseline.get("truth")
    data["limitations"] = _limitations(data)
    data["manifest"] = {
        "name": manifest.get("name"),
        "version": manifest.get("version"),
        "created": manifest.get("created"),
        "seed": manifest.get("seed"),
        "signed": "signature" in manifest,
        "checksum": manifest.get("checksum"),
        "compiled_max_abs_diff": manifest.get("compiled_max_abs_diff"),
        "contract_version": manifest.get("contract", {}).get("version"),
        "tiers": manifest.get("tiers", {}),
        "libraries": manifest.get("libraries", {}),
        "files": manifest.get("files", {}),
        "timings": manifest.get("timings", {}),
        "fingerprint": manifest.get("training", {}).get("fingerprint"),
        "calibration": manifest.get("training", {}).get("calibration", {}),
    }
    data["warnings"] = list(loaded.warnings)
    return data


def _read_holdout(loaded: LoadedModel) -> pd.DataFrame | None:
    path = loaded.path / "holdout.parquet"
    if not path.is_file():
        return None
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # a verified file that pyarrow cannot read: say which
        raise ModelError(f"model {loaded.reference}: cannot read holdout.parquet ({exc})") from None
    if not {"label", "probability"} <= set(frame.columns) or not len(frame):
        return None
    return frame


def _metric_rows(
    holdout: pd.DataFrame | None,
    metrics: Mapping[str, Any],
    baseline: Mapping[str, Any],
    *,
    rounds: int,
    seed: int,
) -> list[dict[str, Any]]:
    overall = metrics.get("overall", {})
    base = baseline.get("overall", {})
    intervals: dict[str, dict[str, tuple[float, float]]] = {}
    if holdout is not None and holdout["label"].nunique() == 2 and rounds > 0:
        y = holdout["label"].to_numpy(int)
        p = holdout["probability"].to_numpy(float)
        b = (
            holdout["baseline_probability"].to_numpy(float)
            if "baseline_probability" in holdout
            else None
        )
        intervals = _paired_bootstrap(y, p, b, rounds=rounds, seed=seed)
    rows = []
    for metric in METRICS:
        if metric not in overall:
            continue
        value, other = overall.get(metric), base.get(metric)
        rows.append(
            {
                "metric": metric,
                "higher_better": metric in _HIGHER_BETTER,
                "value": value,
                "interval": intervals.get("model", {}).get(metric),
                "baseline": other,
                "baseline_interval": intervals.get("baseline", {}).get(metric),
                "difference": None if other is None else value - other,
                "difference_interval": intervals.get("difference", {}).get(metric),
            }
        )
    return rows


def _paired_bootstrap(
    y: np.ndarray,
    p: np.ndarray,
    b: np.ndarray | None,
    *,
    rounds: int,
    seed: int,
    level: float = 0.95,
) -> dict[str, dict[str, tuple[float, float]]]:
    """Percentile bootstrap intervals of the model's and the baseline's holdout metrics, and of
    their difference, on the same resamples (as :func:`scoring.evaluation.bootstrap_intervals`
    does for one model)."""
    if b is None:
        return {"model": bootstrap_intervals(y, p, metrics=METRICS, rounds=rounds, seed=seed)}
    rng = np.random.default_rng(seed)
    draws: dict[str, dict[str, list[float]]] = {
        key: {m: [] for m in METRICS} for key in ("model", "baseline", "difference")
    }
    for _ in range(rounds):
        sample = rng.integers(0, len(y), len(y))
        model = classification_metrics(y[sample], p[sample])
        other = classification_metrics(y[sample], b[sample])
        for metric in METRICS:
            if metric in model and metric in other:
                draws["model"][metric].append(model[metric])
                draws["baseline"][metric].append(other[metric])
                draws["difference"][metric].append(model[metric] - other[metric])
    alpha = (1 - level) / 2
    return {
        key: {
            m: (float(np.quantile(v, alpha)), float(np.quantile(v, 1 - alpha)))
            for m, v in values.items()
            if v
        }
        for key, values in draws.items()
    }


def _holdout_figures(holdout: pd.DataFrame) -> dict[str, Any]:
    """Curves, reliability bins and outcome histograms of the holdout predictions."""
    y = holdout["label"].to_numpy(int)
    columns = {"model": "probability", "baseline": "baseline_probability"}
    if "true_probability" in holdout:
        columns["truth"] = "true_probability"
    curves: dict[str, list[dict[str, Any]]] = {"roc": [], "pr": []}
    reliability = []
    both = len(np.unique(y)) == 2
    for role, column in columns.items():
        if column not in holdout:
            continue
        p = holdout[column].to_numpy(float)
        if both:
            fpr, tpr, _ = roc_curve(y, p)
            precision, recall, _ = precision_recall_curve(y, p)
            curves["roc"].append({"role": role, "x": fpr, "y": tpr, "auc": roc_auc_score(y, p)})
            curves["pr"].append({"role": role, "x": recall, "y": precision})
        if role != "truth":
            reliability.append({"role": role, **_reliability_bins(y, p)})
    p = holdout["probability"].to_numpy(float)
    edges = np.linspace(0, 1, 26)
    densities = [
        np.histogram(p[y == outcome], bins=edges, density=True)[0]
        if (y == outcome).any()
        else np.zeros(len(edges) - 1)
        for outcome in (0, 1)
    ]
    share_edges = np.linspace(0, 1, 21)
    shares = np.histogram(p, bins=share_edges)[0] / max(len(p), 1)
    out: dict[str, Any] = {
        "curves": curves,
        "reliability": reliability,
        "prediction_shares": {"edges": share_edges, "shares": shares},
        "outcomes": {"edges": edges, "densities": densities},
    }
    if "true_probability" in holdout:
        rng = np.random.default_rng(0)
        keep = rng.choice(len(holdout), size=min(len(holdout), 3000), replace=False)
        out["truth_points"] = {
            "true": holdout["true_probability"].to_numpy(float)[keep],
            "predicted": p[keep],
        }
    return out


def _reliability_bins(y: np.ndarray, p: np.ndarray, bins: int = 10) -> dict[str, np.ndarray]:
    """Equal-count bins of ``p``: mean prediction, observed rate and its Wilson 95% interval."""
    order = np.argsort(p, kind="stable")
    groups = [g for g in np.array_split(order, min(bins, len(p))) if len(g)]
    predicted = np.array([p[g].mean() for g in groups])
    observed = np.array([y[g].mean() for g in groups])
    n = np.array([len(g) for g in groups], float)
    z = 1.959964
    centre = (observed + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(observed * (1 - observed) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return {
        "predicted": predicted,
        "observed": observed,
        "low": np.clip(centre - half, 0, 1),
        "high": np.clip(centre + half, 0, 1),
        "rows": n,
    }


def _contributions(loaded: LoadedModel) -> list[dict[str, Any]]:
    """Each feature's contribution table, ready to draw, ordered by its spread."""
    manifest = loaded.manifest
    config = manifest.get("features", {})
    categories = config.get("categories", {})
    monotonic = config.get("monotonic", {})
    drift = manifest.get("reference", {}).get("drift", {})
    partners: dict[str, str] = {}
    for first, second in config.get("pairs", []):
        partners[first], partners[second] = second, first
    out = []
    for table in loaded.scorer.tables:
        reference = drift.get(table.name)
        item: dict[str, Any] = {
            "name": table.name,
            "kind": _kind(table, loaded.contract),
            "monotonic": monotonic.get(table.name, 0),
            "partner": partners.get(table.name),
            "spread": _spread(table, reference),
            "missing": float(table.missing),
            "used": bool(len(table.edges)) or float(np.ptp(table.cells())) > 0,
        }
        if item["kind"] == "categorical":
            keys = list(categories.get(table.name, range(len(table.values))))
            item["keys"] = [str(k) for k in keys][: len(table.values)]
            item["values"] = table.values.tolist()
        elif item["kind"] == "yesno":
            cells = table.cells()[table.index(np.array([0.0, 1.0, np.nan]))]
            item["values"] = cells[:2].tolist()
        else:
            item.update(_numeric_view(table, reference))
        out.append(item)
    return sorted(out, key=lambda item: -item["spread"])


def _kind(table: FeatureTable, contract: Contract) -> str:
    if table.kind == "categorical":
        return "categorical"
    if table.name in contract.names and contract.column(table.name).type == "yesno":
        return "yesno"
    return "numeric"


def _spread(table: FeatureTable, reference: Mapping[str, Any] | None) -> float:
    """Standard deviation of the feature's contribution over the training population.

    Approximated from the drift reference (training deciles and their shares): exact for
    categories, one representative value per decile bin for numbers.
    """
    if reference is None:
        return float(np.std(table.cells()))
    shares = np.asarray(reference["expected"], float)
    if table.kind == "categorical" or reference.get("categories") is not None:
        cells = table.cells()
        values = np.append(cells[:-1][: len(shares) - 1], cells[-1])
        if len(values) != len(shares):
            return float(np.std(cells))
    else:
        edges = np.asarray(reference["edges"], float)
        if not len(edges):
            points = np.array([np.nan])
            points = np.append(np.median(table.edges) if len(table.edges) else 0.0, points)
        else:
            middle = (edges[:-1] + edges[1:]) / 2
            points = np.concatenate([[np.nextafter(edges[0], -np.inf)], middle, [edges[-1]]])
            points = np.append(points, np.nan)
        values = table.cells()[table.index(points)]
        if len(values) != len(shares):
            return float(np.std(table.cells()))
    mean = float(shares @ values)
    return float(np.sqrt(max(shares @ (values - mean) ** 2, 0.0)))


def _numeric_view(table: FeatureTable, reference: Mapping[str, Any] | None) -> dict[str, Any]:
    """Where to draw a numeric feature: around the middle 80% of training values."""
    deciles = np.asarray(reference["edges"], float) if reference else np.empty(0)
    edges = table.edges
    known = np.concatenate([edges, deciles])
    if not len(known):
        return {
            "edges": [],
            "values": table.values.tolist(),
            "low": 0.0,
            "high": 1.0,
            "log": False,
            "band": None,
            "deciles": [],
        }
    p10 = float(deciles[0]) if len(deciles) else float(known.min())
    p90 = float(deciles[-1]) if len(deciles) else float(known.max())
    median = float(np.median(deciles)) if len(deciles) else (p10 + p90) / 2
    # A log axis for long right tails (sales, sales per employee), where a linear one would
    # squeeze most cooperatives into its first tenth.
    log = (
        float(known.min()) > 0
        and p10 > 0
        and p90 / p10 >= 10
        and (p90 - median) > 3 * (median - p10)
    )
    if log:
        reach = (p90 / p10) ** 0.6
        low, high = max(float(known.min()), p10 / reach), min(float(known.max()), p90 * reach)
        low, high = low / 1.15, high * 1.15
    else:
        reach = 0.6 * (p90 - p10) if p90 > p10 else max(abs(p10), 1.0)
        low, high = max(float(known.min()), p10 - reach), min(float(known.max()), p90 + reach)
        pad = 0.06 * (high - low) if high > low else max(abs(low), 1.0) * 0.5
        low, high = low - pad, high + pad
        if float(known.min()) >= 0 and low < 0 <= float(known.min()):
            low = min(0.0, float(known.min())) - pad * 0.3
    band = (p10, p90) if len(deciles) >= 2 and p90 > p10 else None
    return {
        "edges": edges.tolist(),
        "values": table.values.tolist(),
        "low": low,
        "high": high,
        "log": log,
        "band": band,
        "deciles": [d for d in deciles.tolist() if low <= d <= high],
    }


def _pairs(loaded: LoadedModel) -> list[dict[str, Any]]:
    """Each declared pair: the joint contribution (main effects + interaction) per cell pair."""
    scorer = loaded.scorer
    categories = loaded.manifest.get("features", {}).get("categories", {})
    out = []
    for pair in scorer.pairs:
        first, second = scorer.tables[pair.first], scorer.tables[pair.second]
        joint = first.cells()[:, None] + second.cells()[None, :] + pair.values
        out.append(
            {
                "first": first.name,
                "second": second.name,
                "joint": joint,
                "first_cells": _cell_keys(first, loaded.contract, categories),
                "second_cells": _cell_keys(second, loaded.contract, categories),
            }
        )
    return out


def _cell_keys(
    table: FeatureTable, contract: Contract, categories: Mapping[str, Sequence[str]]
) -> list[tuple[str, Any]]:
    """What each cell of a table holds, as ``(kind, value)``: missing last."""
    if table.kind == "categorical":
        keys = list(categories.get(table.name, range(len(table.values))))
        cells: list[tuple[str, Any]] = [("category", str(k)) for k in keys[: len(table.values)]]
    elif _kind(table, contract) == "yesno" and len(table.edges) == 1 and 0 < table.edges[0] < 1:
        cells = [("word", "no"), ("word", "yes")]
    elif not len(table.edges):
        cells = [("word", "all_values")]
    else:
        edges = table.edges.tolist()
        cells = [("le", edges[0])]
        cells += [("between", (a, b)) for a, b in itertools.pairwise(edges)]
        cells.append(("gt", edges[-1]))
    return [*cells, ("word", "missing")]


def _limitations(data: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Known limitations as ``(sentence key, values)``: the standing ones, then the measured."""
    items: list[tuple[str, dict[str, Any]]] = [
        ("lim_extrapolation", {}),
        ("lim_drift", {}),
        ("lim_reasons", {}),
    ]
    split = str(data["training"].get("holdout", ""))
    if split and not split.startswith("by year"):
        items.append(("lim_random_split", {"split": split}))
    small = {
        name: ([row["group"] for row in rows if row.get("small")], len(rows))
        for name, rows in data["groups"].items()
        if any(row.get("small") for row in rows)
    }
    if small:
        items.append(("lim_small_groups", {"groups": small}))
    ece = data["overall"].get("ece")
    if ece is not None and ece > 0.05:
        items.append(("lim_calibration", {"ece": ece}))
    for row in data["metrics"]:
        if row["metric"] == "roc_auc" and row["difference"] is not None and row["difference"] <= 0:
            items.append(("lim_baseline", {"difference": row["difference"]}))
    if data.get("truth"):
        items.append(("lim_sample", {}))
    return items


def render_model_report(
    loaded: LoadedModel, out: str | Path, *, lang: str = "en", rounds: int = 200
) -> Path:
    """Write the model report of a verified model as one self-contained HTML file.

    Parameters
    ----------
    loaded
        From :func:`scoring.registry.load_model`.
    out
        The ``.html`` file to write (atomically).
    lang
        ``"en"`` or ``"fa"``.
    rounds
        Bootstrap resamples for the confidence intervals.

    Returns
    -------
    pathlib.Path
        ``out``.
    """
    out = check_output_path(out)
    local = _Local(lang, loaded.contract)
    data = model_report_data(loaded, rounds=rounds)
    figures = _model_figures(data, local)
    html = _render(
        "model_report.html",
        local,
        data=data,
        figures=figures,
        sections=[(s, f"sec_{s}") for s in _model_sections(data)],
        facts=_model_facts(data, local),
        limitations=[_limitation_text(key, values, local) for key, values in data["limitations"]],
        contributions=[_contribution_view(item, local) for item in data["contributions"]],
        groups={
            name: [{**row, "label": local.category(name, row["group"])} for row in rows]
            for name, rows in data["groups"].items()
        },
        small_group=SMALL_GROUP,
    )
    _write(html, out)
    return out


def _model_sections(data: Mapping[str, Any]) -> list[str]:
    sections = ["data", "metrics"]
    if data["has_holdout"]:
        sections += ["curves", "calibration", "distributions"]
    sections += ["contributions", "groups", "tiers", "selection", "baseline"]
    if data.get("truth"):
        sections.append("truth")
    return [*sections, "limitations", "manifest"]


def _model_facts(data: Mapping[str, Any], local: _Local) -> list[tuple[str, str, bool]]:
    """The data section's ``(label, value, left-to-right)`` rows."""
    training = data["training"]
    rows = [
        (local.t("rows_total"), local.count(training.get("rows")), False),
        (local.t("rows_train"), local.count(training.get("train_rows")), False),
        (local.t("rows_holdout"), local.count(training.get("holdout_rows")), False),
        (local.t("label_rate"), local.pct(training.get("label_rate")), False),
        (local.t("label_rate_holdout"), local.pct(data["overall"].get("label_rate")), False),
        (local.t("holdout_split"), _split_text(training.get("holdout", ""), local), False),
    ]
    if data.get("reference_year") is not None:
        rows.append((local.t("data_year"), local.digits(str(data["reference_year"])), False))
    rows.append((local.t("trained_on"), str(data["created"]), True))
    rows.append((local.t("fingerprint"), str(training.get("fingerprint", "")), True))
    return rows


def _split_text(split: str, local: _Local) -> str:
    if not local.fa:
        return split
    if split.startswith("by year:"):
        year = split.split(":", 1)[1].split()[0]
        return f"بر اساس سال: سال {local.digits(year)} برای آزمون کنار گذاشته شد"
    if split.startswith("stratified random"):
        share = split.rsplit(" ", 1)[-1].rstrip("%")
        return f"تصادفی طبقه‌بندی‌شده {local.digits(share)}٪"
    return split


def _limitation_text(key: str, values: Mapping[str, Any], local: _Local) -> str:
    shown = {}
    for name, value in values.items():
        if name == "groups":
            shown[name] = _small_groups_text(value, local)
        elif name == "split":
            shown[name] = _split_text(value, local)
        elif isinstance(value, float):
            shown[name] = local.num(value, 3)
        else:
            shown[name] = value
    return local.t(key, **shown)


def _small_groups_text(groups: Mapping[str, Any], local: _Local) -> str:
    """'sector: a, b; province: 30 of 31' - names when few, a count when many."""
    parts = []
    for column, (small, total) in groups.items():
        if len(small) <= 8:
            names = ("، " if local.fa else ", ").join(local.category(column, g) for g in small)
        else:
            names = local.t("n_of_m", n=local.count(len(small)), m=local.count(total))
        parts.append(f"{local.feature(column)}: {names}")
    return ("؛ " if local.fa else "; ").join(parts)


def _contribution_view(item: Mapping[str, Any], local: _Local) -> dict[str, Any]:
    """Title and notes of a feature's contribution chart, in the report's language."""
    spread = item["spread"]
    shown = local.num(spread, 2) if spread >= 0.005 else "<" + local.num(0.01, 2)
    notes = [local.t("spread", value=shown)]
    if not item["used"]:
        notes.append(local.t("unused"))
    if item["monotonic"] == 1:
        notes.append(local.t("monotone_up"))
    elif item["monotonic"] == -1:
        notes.append(local.t("monotone_down"))
    if item["partner"]:
        notes.append(local.t("paired_with", other=local.feature(item["partner"])))
    return {
        "name": item["name"],
        "title": local.feature(item["name"]),
        "notes": notes,
        "wide": _wide(item),
    }


def _cell_label(cell: tuple[str, Any], feature: str, local: _Local) -> str:
    kind, value = cell
    if kind == "category":
        return local.category(feature, value)
    if kind == "word":
        return local.t(value)
    if kind == "le":
        return "≤ " + local.num(value, _places(value))
    if kind == "gt":
        return "> " + local.num(value, _places(value))
    low, high = value
    return f"{local.num(low, _places(low))}–{local.num(high, _places(high))}"


def _places(value: float) -> int:
    size = abs(value)
    if size >= 100:
        return 0
    if size >= 1:
        return 1
    return 2 if size >= 0.1 or size == 0 else 3


def _model_figures(data: Mapping[str, Any], local: _Local) -> dict[str, Any]:
    """Every chart of the model report, as data URIs."""
    t, lang = local.t, local.lang
    names = {"model": t("glassbox"), "baseline": t("baseline"), "truth": t("truth")}
    figures: dict[str, Any] = {}
    if data["has_holdout"]:
        curves = data["curves"]
        if curves["roc"]:
            figures["roc"] = plots.roc_curves(
                [
                    {**c, "label": f"{names[c['role']]} (AUC {local.num(c['auc'], 3)})"}
                    for c in curves["roc"]
                ],
                title=t("roc"),
                xlabel=t("fpr"),
                ylabel=t("tpr"),
                lang=lang,
            )
            figures["pr"] = plots.precision_recall_curves(
                [{**c, "label": names[c["role"]]} for c in curves["pr"]],
                base_rate=float(data["overall"].get("label_rate", 0.0)),
                base_label=t("base_rate"),
                title=t("pr"),
                xlabel=t("recall"),
                ylabel=t("precision"),
                lang=lang,
            )
        figures["reliability"] = plots.reliability_diagram(
            [{**r, "label": names[r["role"]]} for r in data["reliability"]],
            shares=data["prediction_shares"]["shares"],
            edges=data["prediction_shares"]["edges"],
            title=t("reliability"),
            xlabel=t("predicted"),
            ylabel=t("observed"),
            share_label=t("share_rows"),
            ideal_label=t("ideal"),
            lang=lang,
        )
        figures["outcomes"] = plots.outcome_histograms(
            data["outcomes"]["edges"],
            data["outcomes"]["densities"],
            [t("not_exported"), t("exported")],
            title=t("outcomes"),
            xlabel=t("predicted"),
            ylabel=t("density"),
            lang=lang,
        )
        if "truth_points" in data:
            figures["truth"] = plots.truth_scatter(
                data["truth_points"]["true"],
                data["truth_points"]["predicted"],
                title=t("truth_scatter"),
                xlabel=t("truth"),
                ylabel=t("predicted"),
                lang=lang,
            )
    figures["contributions"] = {
        item["name"]: _contribution_figure(item, local) for item in data["contributions"]
    }
    figures["pairs"] = [
        {
            "title": t(
                "pair_title",
                first=local.feature(pair["first"]),
                second=local.feature(pair["second"]),
            ),
            "image": plots.pair_heatmap(
                pair["joint"],
                [_cell_label(c, pair["first"], local) for c in pair["first_cells"]],
                [_cell_label(c, pair["second"], local) for c in pair["second_cells"]],
                title="",
                row_label=local.feature(pair["first"]),
                column_label=local.feature(pair["second"]),
                lang=lang,
            ),
        }
        for pair in data["pairs"]
    ]
    figures["groups"] = {}
    for name, rows in data["groups"].items():
        if not rows:
            continue
        figures["groups"][name] = plots.calibration_by_group(
            [local.category(name, r["group"]) for r in rows],
            [r["label_rate"] for r in rows],
            [r["mean_probability"] for r in rows],
            [bool(r.get("small")) for r in rows],
            title=t("by_" + name) if ("by_" + name) in _WORDS else local.feature(name),
            xlabel=t("rate_observed"),
            observed_label=t("observed"),
            predicted_label=t("mean_predicted"),
            small_label=t("small_group"),
            lang=lang,
        )
    if data["tiers"]:
        figures["tiers"] = plots.tier_bars(
            [r["tier"] for r in data["tiers"]],
            [f"{r['tier']}: {local.tier(r['tier'])}" for r in data["tiers"]],
            [r["share"] for r in data["tiers"]],
            [r["exporting_rate"] for r in data["tiers"]],
            title=t("tiers_chart"),
            share_label=t("share"),
            rate_label=t("exporting"),
            lang=lang,
        )
    return figures


def _contribution_figure(item: Mapping[str, Any], local: _Local) -> str:
    t, lang, name = local.t, local.lang, item["name"]
    if item["kind"] == "categorical":
        order = np.argsort(-np.asarray(item["values"]), kind="stable")
        labels = [local.category(name, item["keys"][i]) for i in order] + [t("missing")]
        values = [item["values"][i] for i in order] + [item["missing"]]
        return plots.contribution_bars(
            labels,
            values,
            missing_index=len(labels) - 1,
            xlabel=t("logodds"),
            vertical=_wide(item),
            lang=lang,
        )
    if item["kind"] == "yesno":
        return plots.contribution_bars(
            [t("no"), t("yes"), t("missing")],
            [*item["values"], item["missing"]],
            missing_index=2,
            xlabel=t("logodds"),
            lang=lang,
        )
    return plots.contribution_curve(
        item["edges"],
        item["values"],
        item["missing"],
        low=item["low"],
        high=item["high"],
        log=item["log"],
        band=item["band"],
        deciles=item["deciles"],
        ylabel=t("logodds_short"),
        missing_label=t("missing"),
        lang=lang,
    )


def _wide(item: Mapping[str, Any]) -> bool:
    """A categorical feature with many categories gets a full-width chart of columns."""
    return item["kind"] == "categorical" and len(item.get("keys", ())) > 12


# --------------------------------------------------------------------------------------------
# The batch report


def batch_report_data(
    scored: str | Path | pd.DataFrame,
    *,
    summary: Mapping[str, Any] | str | Path | None = None,
    contract: Contract | None = None,
    top: int = 5,
) -> dict[str, Any]:
    """Everything the batch report shows, as plain numbers (no language, no figures).

    Parameters
    ----------
    scored
        The output of ``readiness score`` (a file or a frame): ``coop_id``,
        ``export_probability``, ``readiness_tier``, the reasons and sub-scores, and, when
        scored with ``--keep-columns``, ``name``, ``province`` and ``sector``.
    summary
        The scoring summary (the JSON of ``--summary``, or its dict), for drift and counts.
    contract
        For category names, tier labels and reason texts (default: the packaged contract).
    top
        Cooperatives listed per province.

    Raises
    ------
    ContractError
        The scored table lacks a column every scored file has.
    """
    contract = contract or load_contract()
    frame = _read_scored(scored)
    summary = _read_summary(summary)
    n = len(frame)
    tiers = frame["readiness_tier"].astype(str).str.strip().str.upper()
    frame = frame.assign(readiness_tier=tiers)
    score = (
        frame["readiness_score"]
        if "readiness_score" in frame
        else np.round(100 * frame["export_probability"], 1)
    )
    frame = frame.assign(readiness_score=score)
    data: dict[str, Any] = {
        "rows": n,
        "summary": summary,
        "tier_counts": {t: int((tiers == t).sum()) for t in TIERS},
        "mean_probability": float(frame["export_probability"].mean()) if n else None,
        "scores": {t: frame.loc[tiers == t, "readiness_score"].to_numpy(float) for t in TIERS},
        "has": {c: c in frame for c in ("province", "sector", "name")},
        "top": top,
    }
    for column in ("province", "sector"):
        if column in frame:
            frame[column] = _category_keys(frame[column], contract, column)
            data[column] = _tier_mix(frame, column)
    data["reasons"] = _reason_counts(frame, contract)
    dimensions = [d for d in DIMENSIONS if f"{d}_score" in frame]
    data["dimensions"] = dimensions
    if dimensions and "sector" in frame:
        table = frame.groupby("sector", sort=False)[[f"{d}_score" for d in dimensions]].mean()
        order = frame["sector"].value_counts().index
        table = table.loc[order]
        overall = frame[[f"{d}_score" for d in dimensions]].mean()
        data["subscores"] = {
            "rows": [*table.index.tolist(), None],
            "matrix": np.vstack([table.to_numpy(float), overall.to_numpy(float)[None, :]]),
            "counts": [*frame["sector"].value_counts().loc[order].tolist(), n],
        }
    if summary is not None:
        data["drift"] = list(summary.get("drift", []))
    if "province" in frame:
        data["top_rows"] = _top_per_group(frame, "province", top)
    return data


def _read_scored(scored: str | Path | pd.DataFrame) -> pd.DataFrame:
    if isinstance(scored, pd.DataFrame):
        frame, where = scored.copy(), "the scored frame"
    else:
        frame, where = open_table(scored).read_all().to_pandas(), Path(scored).name
    missing = [c for c in _SCORED_REQUIRED if c not in frame]
    if missing:
        raise ContractError(
            f"{where} lacks column '{missing[0]}' of a scored file (has: "
            f"{', '.join(map(str, frame.columns[:12]))}); pass the output of `readiness score`"
        )
    for column in _NUMERIC_SCORED:
        if column in frame and not pd.api.types.is_numeric_dtype(frame[column]):
            text = (
                frame[column]
                .astype("string")
                .map(lambda v: to_ascii_digits(v) if isinstance(v, str) else v)
            )
            frame[column] = pd.to_numeric(text, errors="coerce")
    frame["coop_id"] = frame["coop_id"].astype(str)
    return frame


def _read_summary(summary: Mapping[str, Any] | str | Path | None) -> dict[str, Any] | None:
    if summary is None or isinstance(summary, Mapping):
        return None if summary is None else dict(summary)
    path = Path(summary)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputFileError(f"summary file {path} does not exist") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputFileError(
            f"summary file {path} is not the JSON of `readiness score --summary` ({exc})"
        ) from None


def _category_keys(values: pd.Series, contract: Contract, column: str) -> pd.Series:
    """Passed-through category cells (English or Persian, as written) as vocabulary keys."""
    vocabulary = _vocabulary(contract, column)
    text = values.astype("string").fillna("").str.strip()
    if vocabulary is None:
        return text.astype(object)
    mapping = {u: vocabulary.lookup.get(fold_text(u), u) for u in text.unique()}
    return text.map(mapping).replace("", vocabulary.unknown).astype(object)


def _tier_mix(frame: pd.DataFrame, column: str) -> list[dict[str, Any]]:
    """Tier counts per group, groups with the highest share of A and B first."""
    table = pd.crosstab(frame[column], frame["readiness_tier"])
    rows = []
    for group, counts in table.iterrows():
        total = int(counts.sum())
        row = {"group": group, "rows": total, **{t: int(counts.get(t, 0)) for t in TIERS}}
        row["ready_share"] = (row["A"] + row["B"]) / total if total else 0.0
        row["mean_probability"] = float(
            frame.loc[frame[column] == group, "export_probability"].mean()
        )
        rows.append(row)
    return sorted(rows, key=lambda r: (-r["ready_share"], -r["rows"]))


def _reason_counts(frame: pd.DataFrame, contract: Contract) -> list[dict[str, Any]]:
    """Reason codes by how often they come first, and how often among the three."""
    columns = [c for c in ("reason_1", "reason_2", "reason_3") if c in frame]
    if not columns:
        return []
    local = _Local("en", contract)
    first: Counter = Counter()
    anywhere: Counter = Counter()
    for position, column in enumerate(columns):
        for value, count in frame[column].value_counts(dropna=True).items():
            code, _ = local.reason(value)
            if not code:
                continue
            anywhere[code] += int(count)
            if position == 0:
                first[code] += int(count)
    n = max(len(frame), 1)
    return [
        {
            "code": code,
            "first": first.get(code, 0),
            "anywhere": count,
            "first_share": first.get(code, 0) / n,
            "share": count / n,
        }
        for code, count in sorted(anywhere.items(), key=lambda kv: (-first[kv[0]], -kv[1]))
    ]


def _top_per_group(frame: pd.DataFrame, column: str, top: int) -> list[dict[str, Any]]:
    """The ``top`` highest probabilities in each group, groups by size."""
    ranked = frame.sort_values("export_probability", ascending=False, kind="stable")
    out = []
    for group in frame[column].value_counts().index:
        rows = ranked[ranked[column] == group].head(top).astype(object)
        records = rows.where(rows.notna(), None).to_dict("records")
        out.append({"group": group, "rows": int((frame[column] == group).sum()), "top": records})
    return out


def render_batch_report(
    scored: str | Path | pd.DataFrame,
    out: str | Path,
    *,
    summary: Mapping[str, Any] | str | Path | None = None,
    contract: Contract | None = None,
    lang: str = "en",
    top: int = 5,
) -> Path:
    """Write the report of a scored batch as one self-contained HTML file.

    Parameters
    ----------
    scored
        The output file of ``readiness score`` (CSV, Excel or Parquet), or its frame.
    out
        The ``.html`` file to write (atomically).
    summary
        The scoring summary (JSON file or dict) for the counts and the drift table.
    contract
        For category names, tier labels and reason texts (default: the packaged contract).
    lang
        ``"en"`` or ``"fa"``.
    top
        Cooperatives listed per province.

    Returns
    -------
    pathlib.Path
        ``out``.
    """
    out = check_output_path(out)
    contract = contract or load_contract()
    local = _Local(lang, contract)
    data = batch_report_data(scored, summary=summary, contract=contract, top=top)
    figures = _batch_figures(data, local)
    source = str((data["summary"] or {}).get("source", "")) or (
        str(scored) if not isinstance(scored, pd.DataFrame) else ""
    )
    html = _render(
        "batch_report.html",
        local,
        data=data,
        figures=figures,
        sections=[(s, "sec_tier_counts" if s == "tiers" else f"sec_{s}") for s in _BATCH_SECTIONS],
        source=source,
        model=(data["summary"] or {}).get("model", ""),
        reasons=[{**r, "text": local.reason(r["code"])[1]} for r in data["reasons"]],
        drift=[
            {
                **row,
                "label": local.feature(row["feature"]),
                "class": _VERDICT_COLORS.get(row.get("verdict", ""), "muted"),
            }
            for row in data.get("drift", [])
        ],
        stable=STABLE,
        shifted=SHIFTED,
    )
    _write(html, out)
    return out


def _batch_figures(data: Mapping[str, Any], local: _Local) -> dict[str, str]:
    t, lang = local.t, local.lang
    labels = {tier: f"{tier}: {local.tier(tier)}" for tier in TIERS}
    counts = data["tier_counts"]
    figures = {
        "tier_counts": plots.horizontal_bars(
            [labels[tier] for tier in TIERS],
            [counts[tier] for tier in TIERS],
            value_labels=[
                f"{local.count(counts[tier])} ({local.pct(counts[tier] / max(data['rows'], 1))})"
                for tier in TIERS
            ],
            title=t("tier_counts_chart"),
            xlabel=t("cooperatives"),
            width=5.2,
            lang=lang,
        ),
        "distribution": plots.score_histogram_by_tier(
            {tier: data["scores"][tier] for tier in TIERS if len(data["scores"][tier])},
            labels,
            title=t("score_hist"),
            xlabel=t("score"),
            ylabel=t("cooperatives"),
            lang=lang,
        ),
    }
    for column in ("province", "sector"):
        rows = data.get(column)
        if rows:
            figures[column] = plots.tier_shares(
                [local.category(column, r["group"]) for r in rows],
                {tier: [r[tier] for r in rows] for tier in TIERS},
                labels,
                title="",
                xlabel=t("share_of_group"),
                lang=lang,
            )
    reasons = data["reasons"][:12]
    if reasons:
        figures["reasons"] = plots.horizontal_bars(
            [local.reason(r["code"])[1] for r in reasons],
            [r["first"] for r in reasons],
            value_labels=[local.pct(r["first_share"]) for r in reasons],
            title=t("reasons_chart"),
            xlabel=t("cooperatives"),
            color="#b45309",
            lang=lang,
        )
    if "subscores" in data:
        sub = data["subscores"]
        figures["subscores"] = plots.heatmap(
            sub["matrix"],
            [
                (local.category("sector", g) if g is not None else t("all_sectors"))
                + f" ({local.count(c)})"
                for g, c in zip(sub["rows"], sub["counts"], strict=True)
            ],
            [t("dim_" + d) for d in data["dimensions"]],
            title=t("subscores_chart"),
            lang=lang,
        )
    drift = data.get("drift") or []
    if drift:
        figures["drift"] = plots.drift_bars(
            [local.feature(r["feature"]) for r in drift],
            [float(r["psi"]) for r in drift],
            title=t("drift_chart"),
            xlabel="PSI",
            stable=STABLE,
            shifted=SHIFTED,
            lang=lang,
        )
    return figures


# --------------------------------------------------------------------------------------------
# Rendering


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("scoring", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _render(template: str, local: _Local, **context: Any) -> str:
    import datetime as dt

    environment = _environment()
    page = environment.get_template(template)
    return page.render(
        lang=local.lang,
        dir="rtl" if local.fa else "ltr",
        font=_FONTS[local.lang],
        style=_STYLE,
        L=local,
        t=local.t,
        tiers=TIERS,
        generated=dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M"),
        **context,
    )


def _write(html: str, out: Path) -> None:
    with atomic_path(out) as temporary:
        temporary.write_text(html, encoding="utf-8")
