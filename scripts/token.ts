/**
 * Mints a development JWT (HS256 with JWT_SECRET, or the built-in development secret).
 *   npm run token -- --user u_1 [--admin] [--ttl 3600]
 */
import { signDevToken } from '../src/shared/auth/jwt-verifier';
import { DEV_JWT_SECRET } from '../src/shared/config';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (process.env.NODE_ENV === 'production') {
  process.stderr.write('Refusing to mint development tokens with NODE_ENV=production\n');
  process.exit(1);
}
const user = arg('user') ?? 'u_1';
const role = process.argv.includes('--admin') ? 'admin' : 'customer';
const ttl = Number(arg('ttl') ?? 3600);
process.stdout.write(`${signDevToken(process.env.JWT_SECRET ?? DEV_JWT_SECRET, { sub: user, role }, ttl)}\n`);
