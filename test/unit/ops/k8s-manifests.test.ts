import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { parse, parseAllDocuments } from 'yaml';
import { validateManifestDir, validateManifestText } from '../../../scripts/validate-k8s';

const K8S = path.resolve(__dirname, '../../../k8s');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const manifest = (file: string): any => parse(readFileSync(path.join(K8S, file), 'utf8'));

describe('Kubernetes manifests (k8s/)', () => {
  it('when validated against the Kubernetes schemas, then every manifest is valid and kustomization.yaml lists them all', async () => {
    expect(await validateManifestDir(K8S)).to.deep.equal([]);
  });

  it('when a manifest has a wrong type, a missing required field or an unknown kind, then the validator names each problem', async () => {
    const badPort = readFileSync(path.join(K8S, 'deployment.yaml'), 'utf8').replace('containerPort: 3000', 'containerPort: "three thousand"');
    expect((await validateManifestText('deployment.yaml', badPort)).map((p) => p.problem)).to.deep.equal([
      'Deployment payments-service: data/spec/template/spec/containers/0/ports/0/containerPort must be integer',
    ]);
    const noImage = 'apiVersion: batch/v1\nkind: Job\nmetadata: {name: m}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{image: x}]\n';
    expect((await validateManifestText('job.yaml', noImage))[0].problem).to.equal('Job m: data/spec/template/spec/containers/0 must have required property name');
    expect((await validateManifestText('x.yaml', 'apiVersion: apps/v1\nkind: Deploymnet\nmetadata: {name: x}\n'))[0].problem).to.equal(
      'apps/v1 Deploymnet is not a Kubernetes resource known to the schemas',
    );
    expect((await validateManifestText('x.yaml', 'kind: [unclosed\n'))[0].problem).to.match(/^YAML: /);
  });

  it('when a manifest is missing from kustomization.yaml or a listed one does not exist, then the directory check fails', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'k8s-'));
    try {
      for (const f of readdirSync(K8S)) copyFileSync(path.join(K8S, f), path.join(dir, f));
      writeFileSync(path.join(dir, 'extra.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\n');
      rmSync(path.join(dir, 'pdb.yaml'));
      expect((await validateManifestDir(dir)).map((p) => p.problem)).to.deep.equal(['does not list extra.yaml', 'lists pdb.yaml, which does not exist']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('when deployed, then 2+ non-root replicas with a read-only root, /tmp on an emptyDir, /health and /ready probes, resources, and a grace period longer than preStop + drain', () => {
    const deployment = manifest('deployment.yaml');
    const config = manifest('configmap.yaml').data;
    const pod = deployment.spec.template.spec;
    const [app] = pod.containers;
    expect(deployment.spec.replicas).to.be.at.least(2);
    expect(pod.securityContext.runAsNonRoot).to.equal(true);
    expect(app.securityContext.readOnlyRootFilesystem).to.equal(true);
    const tmp = app.volumeMounts.find((m: { mountPath: string }) => m.mountPath === '/tmp');
    expect(pod.volumes.find((v: { name: string }) => v.name === tmp.name)).to.have.property('emptyDir');
    expect(app.livenessProbe.httpGet.path).to.equal('/health');
    expect(app.readinessProbe.httpGet.path).to.equal('/ready');
    expect(app.resources.requests).to.include.keys('cpu', 'memory');
    expect(app.resources.limits).to.include.keys('memory');
    const preStopSeconds = Number(app.lifecycle.preStop.exec.command[1]);
    expect(preStopSeconds).to.be.greaterThan(0);
    expect(pod.terminationGracePeriodSeconds * 1000).to.be.greaterThan(preStopSeconds * 1000 + Number(config.SHUTDOWN_TIMEOUT_MS));
    expect(config.MIGRATE_ON_START).to.equal('false');
  });

  it('when rolled out, then a migration Job migrates once, the HPA (autoscaling/v2) keeps 2+ replicas, a PDB keeps one up and the Service targets the pods', () => {
    const job = manifest('migrate-job.yaml');
    expect(job.kind).to.equal('Job');
    expect(job.spec.template.spec.containers[0].command).to.deep.equal(['node', 'dist/src/cli/migrate.js']);
    const hpa = manifest('hpa.yaml');
    expect(hpa.apiVersion).to.equal('autoscaling/v2');
    expect(hpa.spec.minReplicas).to.be.at.least(2);
    expect(manifest('pdb.yaml').spec.minAvailable).to.equal(1);
    const selector = manifest('deployment.yaml').spec.selector.matchLabels;
    expect(manifest('service.yaml').spec.selector).to.deep.equal(selector);
    expect(manifest('pdb.yaml').spec.selector.matchLabels).to.deep.equal(selector);
  });

  it('when the Secret template is read, then every value is a placeholder', () => {
    const docs = parseAllDocuments(readFileSync(path.join(K8S, 'secret.yaml'), 'utf8'));
    const secret = (Array.isArray(docs) ? docs[0] : docs).toJS();
    for (const [name, value] of Object.entries(secret.stringData as Record<string, string>)) {
      expect(value, name).to.match(/CHANGE_ME|example\.com/);
    }
  });
});
