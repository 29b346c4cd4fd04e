import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import request from 'supertest';
import { parse } from 'yaml';
import { deliverSignedEvent } from '../../../src/modules/webhooks';
import { bearer, newUserId, tokenFor } from '../../helpers/auth';
import { paymentIntentEvent, nowSeconds, stripeId } from '../../helpers/stripe-events';
import { buildTestApp, TEST_WEBHOOK_SECRET, type TestApp } from '../../helpers/test-app';

const ROOT = path.resolve(__dirname, '../../..');
// Prometheus's own series (not exported by the service) that rules may use.
const PROMETHEUS_SERIES = new Set(['up']);
// PromQL words that look like identifiers: aggregation modifiers, set operators, `bool`, `offset`.
const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan']);

/** Metric names a PromQL expression reads (functions, label matchers, grouping labels, ranges and strings removed). */
export function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\$\w+/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*(?=\s*(\(?))/g)) {
    const followedByParen = stripped.slice(match.index! + match[0].length).trimStart().startsWith('(');
    if (followedByParen || PROMQL_WORDS.has(match[0].toLowerCase())) continue;
    names.add(match[0]);
  }
  return [...names];
}

/** Names `/metrics` exposes: every `# TYPE` family, plus `_bucket`, `_sum`, `_count` of histograms. */
function exportedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name);
    if (type === 'histogram' || type === 'summary') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
  }
  return names;
}

/** The value of one sample line, e.g. `payments_failed_total{code="card_declined"}`; 0 when absent. */
function sample(exposition: string, series: string): number {
  const line = exposition.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

function alertExpressions(): string[] {
  const rules = parse(readFileSync(path.join(ROOT, 'monitoring/prometheus/alerts.yml'), 'utf8'));
  return rules.groups.flatMap((g: { rules: Array<{ expr: string }> }) => g.rules.map((r) => r.expr));
}

function dashboardExpressions(): string[] {
  const dashboard = JSON.parse(readFileSync(path.join(ROOT, 'monitoring/grafana/payments-dashboard.json'), 'utf8'));
  return dashboard.panels.flatMap((p: { targets?: Array<{ expr: string }> }) => (p.targets ?? []).map((t) => t.expr));
}

describe('monitoring: the dashboard and alert rules use only exported metrics; business metrics count', () => {
  let t: TestApp;
  before(() => {
    t = buildTestApp();
  });
  const scrape = async () => {
    const res = await request(t.app).get('/metrics');
    expect(res.status).to.equal(200);
    return res.text;
  };

  it('when the names in the alert rules and the Grafana dashboard are checked against GET /metrics, then every one is exported', async () => {
    const exported = exportedNames(await scrape());
    const alerts = alertExpressions();
    const panels = dashboardExpressions();
    expect(alerts.length).to.be.greaterThan(5);
    expect(panels.length).to.be.greaterThan(10);
    const used = new Set([...alerts, ...panels].flatMap(metricNamesIn));
    const missing = [...used].filter((name) => !exported.has(name) && !PROMETHEUS_SERIES.has(name));
    expect(missing).to.deep.equal([]);
    // The business metrics the issue names are all there.
    for (const name of [
      'payments_created_total',
      'payments_failed_total',
      'payments_by_status',
      'payment_amount_total',
      'refunds_total',
      'webhook_event_lag_seconds_bucket',
      'outbox_delivery_oldest_pending_age_seconds',
      'webhook_events_stored',
      'outbox_deliveries_stored',
      'reconcile_drift_total',
      'job_runs_total',
      'job_duration_seconds_bucket',
    ]) {
      expect(exported.has(name), name).to.equal(true);
      expect(used.has(name), `${name} used by a panel or rule`).to.equal(true);
    }
  });

  it('when the name extraction sees a rule naming a metric that does not exist, then it reports it (the check can fail)', () => {
    expect(metricNamesIn('sum by (code) (rate(paymnets_failed_total{code="x"}[5m])) / on (job) up > 0.1 and bool 1')).to.deep.equal([
      'paymnets_failed_total',
      'up',
    ]);
    expect(exportedNames('# TYPE a_seconds histogram\n# TYPE b_total counter\n')).to.deep.equal(
      new Set(['a_seconds', 'a_seconds_bucket', 'a_seconds_sum', 'a_seconds_count', 'b_total']),
    );
  });

  it('when a payment is created and declined, then created, failed{code: the decline_code}, amount{currency,status} and payments_by_status count it', async () => {
    const before = await scrape();
    const token = tokenFor(newUserId());
    const created = await request(t.app).post('/v1/payments').set(bearer(token)).send({ amount: 1234, currency: 'eur' });
    expect(created.status).to.equal(201);
    const declined = await request(t.app)
      .post(`/v1/payments/${created.body.id}/confirm`)
      .set(bearer(token))
      .send({ payment_method: 'pm_card_chargeDeclined' });
    expect(declined.status).to.equal(402);

    const after = await scrape();
    const delta = (series: string) => sample(after, series) - sample(before, series);
    expect(delta('payments_created_total{currency="eur"}')).to.equal(1);
    expect(delta('payment_amount_total{currency="eur",status="pending"}')).to.equal(1234);
    expect(delta('payment_amount_total{currency="eur",status="failed"}')).to.equal(1234);
    expect(delta('payments_failed_total{code="generic_decline"}')).to.equal(1);
    expect(sample(after, 'payments_by_status{status="failed"}')).to.be.at.least(1);
  });

  it('when a Stripe event created two minutes ago is stored, then the webhook lag histogram observes about 120 s', async () => {
    const before = await scrape();
    const event = paymentIntentEvent('payment_intent.succeeded', {
      paymentId: null,
      intentId: stripeId('pi'),
      status: 'succeeded',
      created: nowSeconds() - 120,
    });
    await deliverSignedEvent(t.container.webhooks.ingest, event, TEST_WEBHOOK_SECRET);
    const after = await scrape();
    const type = 'type="payment_intent.succeeded"';
    expect(sample(after, `webhook_event_lag_seconds_count{${type}}`) - sample(before, `webhook_event_lag_seconds_count{${type}}`)).to.equal(1);
    const observed = sample(after, `webhook_event_lag_seconds_sum{${type}}`) - sample(before, `webhook_event_lag_seconds_sum{${type}}`);
    expect(observed).to.be.within(119, 600);
    expect(sample(after, `webhook_event_lag_seconds_bucket{le="60",${type}}`) - sample(before, `webhook_event_lag_seconds_bucket{le="60",${type}}`)).to.equal(0);
  });

  it('when the database answers, then service_dependency_up{dependency="database"} is 1 and the oldest pending delivery age is a number', async () => {
    const text = await scrape();
    expect(sample(text, 'service_dependency_up{dependency="database"}')).to.equal(1);
    expect(Number.isFinite(sample(text, 'outbox_delivery_oldest_pending_age_seconds'))).to.equal(true);
  });
});
