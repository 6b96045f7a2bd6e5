#!/usr/bin/env bash
# The full tour on the embedded sample: generate, train, score, plan, report.
set -euo pipefail
BIN=${BIN:-.venv/bin}
OUT=${OUT:-demo-output}
R="$BIN/readiness"
mkdir -p "$OUT"
# The model is registered where `readiness score` looks by default (./models), so the commands
# printed at the end work as they are.
export READINESS_REGISTRY="${READINESS_REGISTRY:-models}"

echo "== 1. sample data: 30,000 labelled cooperatives (with their true probabilities),"
echo "      a 20,000-row unlabelled list with some dirty rows, and its Persian twin"
"$R" sample --rows 30000 --seed 0 --out "$OUT/registry-2024.csv" --truth "$OUT/truth-2024.csv"
"$R" sample --rows 20000 --seed 1 --unlabelled --dirty 0.02 --out "$OUT/list.csv"
"$R" sample --rows 2000 --seed 2 --unlabelled --persian --out "$OUT/list-fa.xlsx"

echo "== 2. validate the list"
"$R" validate "$OUT/list.csv" --rejects "$OUT/list-rejects.csv"

echo "== 3. train, evaluate on a holdout against the known truth, register"
echo "      (a few minutes on 2 cores: candidates by 5-fold cross-validation, then a refit on all rows)"
"$R" train "$OUT/registry-2024.csv" --truth "$OUT/truth-2024.csv" --seed 0
"$R" models list

echo "== 4. score the list (and the Persian Excel export, with Persian reasons)"
"$R" score "$OUT/list.csv" --out "$OUT/scores.csv" --rejects "$OUT/score-rejects.csv" \
  --summary "$OUT/score-summary.json" --keep-columns name,province,sector,installed_capacity,actual_output \
  --next-step --programs examples/programs.toml
"$R" score "$OUT/list-fa.xlsx" --out "$OUT/scores-fa.xlsx" --lang fa --keep-columns name

echo "== 5. plan a support budget of 60,000 (million rials)"
"$R" plan "$OUT/list.csv" --programs examples/programs.toml --budget 60000 \
  --out "$OUT/plan.csv" --summary "$OUT/plan-summary.json"

if "$R" report --help >/dev/null 2>&1 && "$R" report model --help >/dev/null 2>&1; then
  echo "== 6. reports"
  "$R" report model export-readiness --out "$OUT/model-card.html"
  "$R" report batch "$OUT/scores.csv" --summary "$OUT/score-summary.json" \
    --programs examples/programs.toml --out "$OUT/batch-report.html"
  "$R" report batch "$OUT/scores.csv" --summary "$OUT/score-summary.json" \
    --programs examples/programs.toml --lang fa --out "$OUT/batch-report-fa.html"
  "$R" report plan "$OUT/plan.csv" --summary "$OUT/plan-summary.json" --out "$OUT/plan-report.html"
fi

echo
echo "Done. Everything is in $OUT/ (the model is in $READINESS_REGISTRY/):"
ls -1 "$OUT"
echo
echo "What next:"
echo "  open $OUT/batch-report.html (or batch-report-fa.html, model-card.html) in a browser"
echo "  score your own file:   .venv/bin/readiness score YOUR-LIST.xlsx --out scores.xlsx --lang fa"
echo "  plan a budget:         .venv/bin/readiness plan YOUR-LIST.xlsx --programs examples/programs.toml --budget 60000 --out plan.csv"
echo "  open the workbench:    .venv/bin/readiness serve --programs examples/programs.toml --load $OUT/list-fa.xlsx"
echo "                         (then http://127.0.0.1:8000/ for the workbench, /docs for the API)"
