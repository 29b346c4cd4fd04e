import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';

const ROOT = path.resolve(__dirname, '../../..');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const compose: any = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'));

describe('docker-compose.yml', () => {
  it('when started without a profile, then app, postgres and redis run, the app on :3000 with the database, Redis and Stripe variables', () => {
    const always = Object.entries(compose.services as Record<string, { profiles?: string[] }>)
      .filter(([, s]) => !s.profiles)
      .map(([name]) => name);
    expect(always.sort()).to.deep.equal(['app', 'postgres', 'redis']);
    const app = compose.services.app;
    expect(app.ports).to.include('3000:3000');
    expect(app.environment).to.include.keys('DATABASE_URL', 'REDIS_URL', 'STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET');
    expect(app.environment.STRIPE_WEBHOOK_SECRET).to.equal('${STRIPE_WEBHOOK_SECRET:-}');
  });

  it('when the stripe profile is on, then the Stripe CLI forwards to the app webhook route with the key from STRIPE_SECRET_KEY', () => {
    const stripe = compose.services.stripe;
    expect(stripe.profiles).to.deep.equal(['stripe']);
    expect(stripe.image).to.match(/^stripe\/stripe-cli/);
    const command: string[] = stripe.command;
    expect(command[0]).to.equal('listen');
    expect(command[command.indexOf('--forward-to') + 1]).to.equal('app:3000/v1/webhooks/stripe');
    expect(stripe.environment.STRIPE_API_KEY).to.equal('${STRIPE_SECRET_KEY:-}');
    // Its signing secret reaches the app through STRIPE_WEBHOOK_SECRET (.env), as the header explains.
    expect(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')).to.contain('listen --print-secret');
  });

  it('when the monitoring profile is on, then Prometheus (:9090) loads the rules and Grafana (:3001) provisions the dashboard from files that exist', () => {
    const { prometheus, grafana } = compose.services;
    expect(prometheus.profiles).to.deep.equal(['monitoring']);
    expect(grafana.profiles).to.deep.equal(['monitoring']);
    expect(prometheus.ports).to.include('9090:9090');
    expect(grafana.ports).to.include('3001:3000');
    expect(prometheus.volumes).to.include('./monitoring/prometheus:/etc/prometheus:ro');
    expect(grafana.volumes).to.include('./monitoring/grafana/provisioning:/etc/grafana/provisioning:ro');
    for (const volume of [...prometheus.volumes, ...grafana.volumes] as string[]) {
      const source = volume.split(':')[0];
      if (source.startsWith('./')) expect(existsSync(path.join(ROOT, source)), source).to.equal(true);
    }
    // prometheus.yml scrapes the app service and loads alerts.yml next to it.
    const prom = parse(readFileSync(path.join(ROOT, 'monitoring/prometheus/prometheus.yml'), 'utf8'));
    expect(prom.scrape_configs[0].static_configs[0].targets).to.deep.equal(['app:3000']);
    expect(prom.rule_files).to.deep.equal(['alerts.yml']);
    const provider = parse(readFileSync(path.join(ROOT, 'monitoring/grafana/provisioning/dashboards/payments.yml'), 'utf8'));
    const dashboardMount = (grafana.volumes as string[]).find((v) => v.startsWith('./monitoring/grafana/payments-dashboard.json:'))!;
    expect(dashboardMount.split(':')[1].startsWith(`${provider.providers[0].options.path}/`)).to.equal(true);
  });
});
