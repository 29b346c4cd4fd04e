import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as paymentsIndex from '../../src/modules/payments';

const ROOT = path.resolve(__dirname, '../..');
const SRC = path.join(ROOT, 'src');
const PAYMENTS = path.join(SRC, 'modules', 'payments');
const WEBHOOKS = path.join(SRC, 'modules', 'webhooks');
const STRIPE = path.join(SRC, 'providers', 'stripe');

/** Every .ts file under `dir`. */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

const inside = (file: string, dir: string) => file === dir || file.startsWith(dir + path.sep);

/** The files a source file imports (relative specifiers only), as absolute paths without extension. */
function importsOf(file: string, text: string): string[] {
  const specifiers = [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*|^import\s+)['"]([^'"]+)['"]/gm)].map((m) => m[1]);
  return specifiers.filter((s) => s.startsWith('.')).map((s) => path.resolve(path.dirname(file), s).replace(/\.ts$/, ''));
}

/** Imports of payments internals (anything but its index) from outside the payments module. */
function internalPaymentImports(file: string, text: string): string[] {
  if (inside(file, PAYMENTS)) return [];
  return importsOf(file, text).filter((target) => inside(target, PAYMENTS) && target !== PAYMENTS && target !== path.join(PAYMENTS, 'index'));
}

/** SQL that writes the payments module's tables, in a file outside the payments module. */
function paymentTableWrites(file: string, text: string): string[] {
  if (inside(file, PAYMENTS)) return [];
  const writes = /\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(?:payments|payment_status_history)\b/gi;
  return [...text.matchAll(writes)].map((m) => m[0]);
}

/** Imports of the Stripe provider from the webhooks module (it reads events through `PaymentProvider`). */
function stripeImportsFromWebhooks(file: string, text: string): string[] {
  if (!inside(file, WEBHOOKS)) return [];
  return importsOf(file, text).filter((target) => inside(target, STRIPE));
}

describe('module boundaries: one door into payments', () => {
  const files = sourceFiles(SRC).map((file) => ({ file, text: readFileSync(file, 'utf8') }));
  const report = (check: (file: string, text: string) => string[]) =>
    files.flatMap(({ file, text }) => check(file, text).map((hit) => `${path.relative(ROOT, file)}: ${path.relative(ROOT, hit) || hit}`));

  it('when a module outside payments imports payments, then only through its index', () => {
    expect(report(internalPaymentImports)).to.deep.equal([]);
  });

  it('when code outside the payments module writes, then never to the payments or payment_status_history tables', () => {
    expect(report(paymentTableWrites)).to.deep.equal([]);
  });

  it('when the webhooks module verifies or reads events, then through PaymentProvider, never by importing providers/stripe', () => {
    expect(report(stripeImportsFromWebhooks)).to.deep.equal([]);
  });

  it("when another module imports payments' index, then the repository, the mover, applyIntent and callProvider are not offered", () => {
    expect(Object.keys(paymentsIndex)).to.include('PaymentLedger');
    expect(Object.keys(paymentsIndex)).to.not.include.members(['PaymentRepository', 'PaymentMover', 'applyIntent', 'callProvider']);
  });

  it('when a file breaks a rule, then the checks above name it (the checks can fail)', () => {
    const refunds = path.join(SRC, 'modules', 'refunds', 'x.ts');
    const webhook = path.join(WEBHOOKS, 'handlers', 'x.ts');
    const bad = `import { PaymentRepository } from '../payments/payment.repository';\nimport { a } from '../payments';\nawait sql.exec(\`UPDATE payments SET status = 'x'\`);\nconst q = "insert into payment_status_history";`;
    expect(internalPaymentImports(refunds, bad)).to.deep.equal([path.join(PAYMENTS, 'payment.repository')]);
    expect(paymentTableWrites(refunds, bad)).to.deep.equal(['UPDATE payments', 'insert into payment_status_history']);
    expect(stripeImportsFromWebhooks(webhook, `import { toProviderIntent } from '../../../providers/stripe/stripe-mappers';`)).to.have.length(1);
    expect(paymentTableWrites(path.join(PAYMENTS, 'payment.repository.ts'), bad), 'the payments module itself may write').to.deep.equal([]);
  });
});
