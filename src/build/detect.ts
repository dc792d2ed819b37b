/**
 * Picks the builder of an app: the one a Cloud Foundry manifest's `buildpacks:` names when we have
 * it, else the first that recognises the files (Node, Python, Java, static), else `prebuilt` for an
 * app that already has a start command. The choice is made at deploy, so that an app no builder
 * can stage is refused there, with what was looked for, and again at staging from the same files.
 */
import { DomainError } from '../platform/errors.ts';
import type { Builder, BuildSettings } from './builder.ts';
import { nodeBuilder } from './builders/node.ts';
import { javaBuilder, prebuiltBuilder, staticBuilder } from './builders/prebuilt.ts';
import { pythonBuilder } from './builders/python.ts';
import type { BundleFiles } from './bundle-files.ts';

export const BUILDERS: readonly Builder[] = [
  nodeBuilder,
  pythonBuilder,
  javaBuilder,
  staticBuilder,
  prebuiltBuilder,
];

const LOOKED_FOR: Record<string, string> = {
  node: 'package.json',
  python: 'requirements.txt, or pyproject.toml with a [build-system]',
  java: 'one executable .jar at the top of the bundle',
  static: 'index.html or Staticfile',
  prebuilt: 'a start command (Procfile web: or manifest command)',
};

export interface Detected {
  builder: Builder;
  /** What staging will do, e.g. `node: npm ci, npm run build, npm prune --omit=dev`. */
  description: string;
  warnings: string[];
}

export interface DetectInput {
  files: BundleFiles;
  buildpacks: readonly string[];
  kind: 'process' | 'static';
  command: string | null;
}

function byBuildpack(input: DetectInput, warnings: string[]): Builder | null {
  for (const name of input.buildpacks) {
    const b = BUILDERS.find((x) => x.buildpack === name);
    if (!b) continue;
    if (!b.detect(input.files)) {
      throw new DomainError(
        'GOVHOST_BUNDLE_INVALID',
        `the manifest asks for ${name}, and the bundle has no ${LOOKED_FOR[b.name]}`,
      );
    }
    return b;
  }
  if (input.buildpacks.length > 0) {
    const known = BUILDERS.map((b) => b.buildpack).join(', ');
    warnings.push(
      `buildpacks: ${input.buildpacks.join(', ')} ${input.buildpacks.length > 1 ? 'are' : 'is'} not among those GovHost has (${known}); the builder is chosen from the files instead`,
    );
  }
  return null;
}

function byFiles(input: DetectInput): Builder {
  // A static site is served by the router: whatever else lies beside its index.html is not run.
  if (input.kind === 'static') return staticBuilder;
  if (nodeBuilder.detect(input.files)) return nodeBuilder;
  if (pythonBuilder.detect(input.files)) return pythonBuilder;
  if (/^java\s/.test(input.command ?? '') && javaBuilder.detect(input.files)) return javaBuilder;
  return prebuiltBuilder;
}

/**
 * The builder for an app, its deploy-time warnings, and what it will do; throws
 * GOVHOST_BUNDLE_INVALID when the app cannot be built here.
 * @example (await detectBuilder({ files, buildpacks: [], kind: 'process', command: 'npm start' }, settings)).builder.name // 'node'
 */
export async function detectBuilder(input: DetectInput, settings: BuildSettings): Promise<Detected> {
  const warnings: string[] = [];
  const builder = byBuildpack(input, warnings) ?? byFiles(input);
  warnings.push(...(await builder.check(input.files, settings)));
  return { builder, description: `${builder.name}: ${builder.describe(input.files)}`, warnings };
}
