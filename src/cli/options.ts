import { InvalidArgumentError } from 'commander';
import { usageError } from './errors.ts';

/** An option parser for a whole number in [min, max]; commander reports a bad one as a usage error. */
export const integer =
  (min: number, max: number) =>
  (raw: string): number => {
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < min || n > max) {
      throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}`);
    }
    return n;
  };

/** An option parser for a comma-separated list drawn from `allowed`, e.g. `web,mobile`. */
export const listOf =
  (allowed: readonly string[]) =>
  (raw: string): string[] => {
    const items = raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const wrong = items.filter((i) => !allowed.includes(i));
    if (items.length === 0 || wrong.length > 0) {
      throw new InvalidArgumentError(`must be a comma-separated list of ${allowed.join(', ')}`);
    }
    return items;
  };

/** A secret read from standard input (as `--password-stdin` promises), without its final newline. */
export async function readSecretFromStdin(option = '--password-stdin'): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const secret = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (secret === '') throw usageError(`${option} read nothing from standard input`);
  return secret;
}

/** Drops the keys whose value is undefined, to tell "nothing to change" from a real change. */
function defined<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The body of a PATCH: at least one field, or a usage error naming the options to use. */
export function patchOf<T extends object>(fields: T, options: string): Partial<T> {
  const body = defined(fields);
  if (Object.keys(body).length === 0) throw usageError(`nothing to change: give ${options}`);
  return body;
}

/** Splits `DEPT/slug`; a bare `slug` has no department. */
export function parseRef(ref: string): { department?: string; slug: string } {
  const parts = ref.split('/');
  if (parts.length === 1) return { slug: ref };
  const [department, slug] = parts;
  if (parts.length > 2 || !department || !slug) {
    throw usageError(`${JSON.stringify(ref)} is not a service reference: write DEPT/slug or slug`);
  }
  return { department, slug };
}
