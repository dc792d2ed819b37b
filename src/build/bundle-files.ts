/**
 * What detection looks at: the names at the top of an app folder and a few small files' text. The
 * same view comes from an uploaded archive (at deploy, to refuse early) and from the unpacked folder
 * (at staging), so the two can never decide differently.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface BundleFiles {
  /** Names of the regular files at the top of the app folder. */
  names: ReadonlySet<string>;
  /** Text of a small top-level file, or null when it is absent (or not read). */
  text(name: string): string | null;
}

/** The files detection reads the text of; anything larger than 1 MiB is not read. */
export const DETECTION_FILES = [
  'package.json',
  'requirements.txt',
  'runtime.txt',
  'pyproject.toml',
  'Staticfile',
] as const;

const MAX_TEXT = 1024 * 1024;

/** From an archive's entry list and the contents read while scanning it. */
export function filesOfArchive(
  entries: ReadonlyMap<string, string>,
  contents: ReadonlyMap<string, Buffer>,
): BundleFiles {
  const names = new Set(
    [...entries].filter(([n, kind]) => kind === 'file' && !n.includes('/')).map(([n]) => n),
  );
  return {
    names,
    text: (name) => {
      const buf = contents.get(name);
      return buf ? buf.toString('utf8').replace(/^\uFEFF/, '') : null;
    },
  };
}

/** From an unpacked app folder. */
export async function filesOfFolder(dir: string): Promise<BundleFiles> {
  const names = new Set(
    (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name),
  );
  const texts = new Map<string, string>();
  for (const name of DETECTION_FILES) {
    if (!names.has(name)) continue;
    const buf = await readFile(join(dir, name));
    if (buf.length <= MAX_TEXT) texts.set(name, buf.toString('utf8').replace(/^\uFEFF/, ''));
  }
  return { names, text: (name) => texts.get(name) ?? null };
}
