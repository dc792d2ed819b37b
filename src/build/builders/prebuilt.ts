/**
 * Apps with nothing to install: static sites (served by the router, no process), executable jars
 * (`java -jar`, when a JRE is on the host), and prebuilt apps whose Procfile or manifest command
 * runs what the bundle already holds. Their droplet is the bundle as it is.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DomainError } from '../../platform/errors.ts';
import { AS_IS, type Builder } from '../builder.ts';

const none = {
  nothingToDo: () => true,
  describe: () => 'nothing to install',
  check: async () => [],
  stage: async () => AS_IS,
} as const;

export const staticBuilder: Builder = {
  ...none,
  name: 'static',
  buildpack: 'staticfile_buildpack',
  detect: (files) => files.names.has('index.html') || files.names.has('Staticfile'),
  version: async () => 'static 1',
};

export const prebuiltBuilder: Builder = {
  ...none,
  name: 'prebuilt',
  buildpack: 'binary_buildpack',
  // Chosen last, for any app that has a start command and nothing another builder recognises.
  detect: () => true,
  version: async () => 'prebuilt 1',
};

let java: Promise<string | null> | null = null;

/** The host's Java version line, or null when no JRE is installed. */
export function hostJava(): Promise<string | null> {
  java ??= promisify(execFile)('java', ['-version'], {
    timeout: 10_000,
    env: { PATH: '/usr/local/bin:/usr/bin:/bin' },
  }).then(
    (r) => (r.stderr.split('\n')[0] ?? '').trim() || 'java',
    () => null,
  );
  return java;
}

export const javaBuilder: Builder = {
  ...none,
  name: 'java',
  buildpack: 'java_buildpack',
  detect: (files) => [...files.names].filter((n) => n.endsWith('.jar')).length === 1,
  async check() {
    if ((await hostJava()) === null) {
      throw new DomainError(
        'GOVHOST_BUNDLE_INVALID',
        'this app is an executable jar, and this platform has no Java runtime (operators: install a JRE, e.g. openjdk-17-jre-headless)',
      );
    }
    return [];
  },
  version: async () => `java ${(await hostJava()) ?? 'missing'}`,
};
