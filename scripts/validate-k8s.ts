/**
 * Validates k8s/*.yaml against Kubernetes' schemas (the official OpenAPI, compiled to JSON-schema
 * validators by the `kubernetes-models` package: types, required fields, enums, formats; offline, from
 * npm only), parsed with the `yaml` package. Also checks that kustomization.yaml lists every manifest.
 *   npm run validate:k8s [-- <dir>]     exits 1 and names each problem when a manifest is invalid
 * Limit: like the API server's OpenAPI, the schemas allow unknown fields, so a misspelt optional
 * field is not caught here (`kubectl apply --dry-run=server -k k8s/` against a cluster catches it).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

export interface ManifestProblem {
  file: string;
  problem: string;
}

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: Record<string, unknown>) => Validatable;

/** `apps/v1` + `Deployment` -> the kubernetes-models class (core `v1` resources live at `kubernetes-models/v1`). */
async function modelFor(apiVersion: string, kind: string): Promise<ModelClass | undefined> {
  if (!/^[a-z0-9.]+(\/[a-z0-9]+)?$/.test(apiVersion) || !/^[A-Za-z]+$/.test(kind)) return undefined;
  try {
    // A dynamic import: the package is ESM-only.
    const loaded = (await import(`kubernetes-models/${apiVersion}/${kind}`)) as Record<string, unknown>;
    return loaded[kind] as ModelClass | undefined;
  } catch {
    return undefined;
  }
}

/** Problems of one YAML file's documents (empty when valid). */
export async function validateManifestText(file: string, text: string): Promise<ManifestProblem[]> {
  const problems: ManifestProblem[] = [];
  const documents = parseAllDocuments(text);
  for (const doc of Array.isArray(documents) ? documents : [documents]) {
    if (doc.errors.length > 0) {
      problems.push(...doc.errors.map((e) => ({ file, problem: `YAML: ${e.message}` })));
      continue;
    }
    const object = doc.toJS() as Record<string, unknown> | null;
    if (object === null) continue;
    const { apiVersion, kind } = object as { apiVersion?: unknown; kind?: unknown };
    if (typeof apiVersion !== 'string' || typeof kind !== 'string') {
      problems.push({ file, problem: 'apiVersion and kind are required' });
      continue;
    }
    if (apiVersion.startsWith('kustomize.config.k8s.io/')) continue;
    const Model = await modelFor(apiVersion, kind);
    if (!Model) {
      problems.push({ file, problem: `${apiVersion} ${kind} is not a Kubernetes resource known to the schemas` });
      continue;
    }
    try {
      new Model(object).validate();
    } catch (err) {
      problems.push({ file, problem: `${kind} ${String((object.metadata as { name?: string } | undefined)?.name)}: ${(err as Error).message}` });
    }
  }
  return problems;
}

/** Every *.yaml of `dir`, and kustomization.yaml listing exactly those manifests. */
export async function validateManifestDir(dir: string): Promise<ManifestProblem[]> {
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
  const problems: ManifestProblem[] = [];
  for (const file of files) problems.push(...(await validateManifestText(file, readFileSync(path.join(dir, file), 'utf8'))));
  const kustomization = files.find((f) => f === 'kustomization.yaml');
  if (!kustomization) {
    problems.push({ file: 'kustomization.yaml', problem: 'missing' });
  } else {
    const { resources = [] } = (parseAllDocuments(readFileSync(path.join(dir, kustomization), 'utf8')) as unknown as Array<{ toJS(): { resources?: string[] } }>)[0].toJS();
    const manifests = files.filter((f) => f !== kustomization);
    for (const f of manifests) if (!resources.includes(f)) problems.push({ file: kustomization, problem: `does not list ${f}` });
    for (const r of resources) if (!manifests.includes(r)) problems.push({ file: kustomization, problem: `lists ${r}, which does not exist` });
  }
  return problems;
}

async function main(): Promise<void> {
  const dir = path.resolve(process.argv[2] ?? path.join(__dirname, '..', 'k8s'));
  const problems = await validateManifestDir(dir);
  for (const p of problems) process.stderr.write(`${p.file}: ${p.problem}\n`);
  if (problems.length > 0) process.exit(1);
  process.stdout.write(`${dir}: ${readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).length} files valid against the Kubernetes schemas\n`);
}

if (require.main === module) void main();
