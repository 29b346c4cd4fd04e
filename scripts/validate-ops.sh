#!/usr/bin/env bash
# Validates the operations files, offline:
#   - k8s/*.yaml against the Kubernetes schemas (scripts/validate-k8s.ts, kubernetes-models from npm);
#   - monitoring/prometheus/alerts.yml and prometheus.yml with promtool (Debian's `prometheus` package);
#   - docker-compose.yml with `docker compose config`, only where Docker is installed (skipped otherwise:
#     test/unit/ops/docker-compose.test.ts parses and checks it everywhere).
# The dashboard's and rules' metric names are checked against /metrics by the test suite
# (test/integration/platform/monitoring.test.ts).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

echo "k8s manifests:"
npx tsx scripts/validate-k8s.ts k8s

echo "Prometheus rules and config:"
if ! command -v promtool >/dev/null 2>&1; then
  echo "error: promtool not found (apt-get install -y prometheus)" >&2
  exit 1
fi
promtool check rules monitoring/prometheus/alerts.yml
promtool check config monitoring/prometheus/prometheus.yml
node -e "JSON.parse(require('fs').readFileSync('monitoring/grafana/payments-dashboard.json', 'utf8'))" && echo "  SUCCESS: payments-dashboard.json is JSON"

echo "docker-compose.yml:"
if command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
  docker compose --profile stripe --profile monitoring config --quiet && echo "  SUCCESS: docker compose config"
else
  echo "  skipped: docker compose is not installed here (the test suite parses and checks the file)"
fi
