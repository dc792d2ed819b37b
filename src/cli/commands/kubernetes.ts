import { type Command, InvalidArgumentError } from 'commander';
import {
  INSTALL_DEFAULTS,
  INSTALL_SECRETS,
  installManifests,
} from '../../runtime/kubernetes/install-manifests.ts';
import { integer } from '../options.ts';

const NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** `govhost kubernetes manifests`: prints the install manifests (it calls no API and no cluster). */
export function registerKubernetesCommands(program: Command): void {
  const k8s = program.command('kubernetes').description('run GovHost on a Kubernetes cluster');
  k8s
    .command('manifests')
    .description(
      `print the install manifests as YAML, for kubectl apply -f - (make the Secrets ${INSTALL_SECRETS.database.name} and ${INSTALL_SECRETS.keys.name} first: see docs/kubernetes.md)`,
    )
    .option(
      '--image <image>',
      "GovHost's image (this checkout with its node_modules)",
      INSTALL_DEFAULTS.image,
    )
    .option(
      '--namespace <name>',
      "namespace of GovHost's own pods",
      (raw: string) => {
        if (!NAME.test(raw))
          throw new InvalidArgumentError('must be a Kubernetes name: lower-case letters, digits and "-"');
        return raw;
      },
      INSTALL_DEFAULTS.namespace,
    )
    .option(
      '--replicas <n>',
      'control-plane replicas, 2 or more',
      integer(2, 99),
      INSTALL_DEFAULTS.controlPlaneReplicas,
    )
    .option(
      '--router-replicas <n>',
      'router replicas, 2 or more',
      integer(2, 99),
      INSTALL_DEFAULTS.routerReplicas,
    )
    .option('--domain <domain>', 'domain under which services get their host names', INSTALL_DEFAULTS.domain)
    .action(
      async (opts: {
        image: string;
        namespace: string;
        replicas: number;
        routerReplicas: number;
        domain: string;
      }) => {
        const objects = installManifests({
          image: opts.image,
          namespace: opts.namespace,
          controlPlaneReplicas: opts.replicas,
          routerReplicas: opts.routerReplicas,
          domain: opts.domain,
        });
        // yaml loads only for this command: every other command starts without it.
        const { stringify } = await import('yaml');
        process.stdout.write(objects.map((o) => stringify(o)).join('---\n'));
      },
    );
}
