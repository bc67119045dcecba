#!/bin/sh
# The daily IAM key audit of a CI job. The CI cache keeps baseline.json,
# yesterday's report, between runs.
set -u
baseline=""
if [ -f baseline.json ]; then
  baseline="--baseline baseline.json"
fi

# The report for people: one HTML page, with what is new since yesterday.
iamsql --config iamsql.yaml report $baseline -o html > report.html || true

# Tomorrow's baseline: the report's own JSON.
iamsql --config iamsql.yaml report findings $baseline -o json > today.json || true

# The gate: code scanning gets the SARIF log; critical and high findings
# that are not exempted fail the job (exit 3; 4 when the report is incomplete).
iamsql --config iamsql.yaml report findings $baseline --fail-on high -o sarif > iamsql.sarif
status=$?

mv today.json baseline.json
exit $status
