import { availableParallelism } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { ConfigError, parseTrustedProxies, TRUST_FORWARDED_REMOVED } from '../platform/config.ts';
import type { ControlPlaneSource } from './follow.ts';
import { controlPlaneUrlProblem, isLoopback, ROUTER_DEFAULTS, type RouterOptions } from './options.ts';

/**
 * The router process's settings from its environment, checked once with every problem named.
 * The router reads only its own GOVHOST_ROUTER_* variables: it runs beside the control plane,
 * not inside it, and must start without the platform's database or config file.
 */
/** The router's secrets among its variables: its process keeps them, its workers never see them. */
export const ROUTER_SECRETS = [
  'GOVHOST_ROUTER_ADMIN_TOKEN',
  'GOVHOST_ROUTER_CONTROL_PLANE_TOKEN',
  'GOVHOST_ROUTER_STATE_KEY',
] as const;

export function routerOptionsFromEnv(env: NodeJS.ProcessEnv): RouterOptions {
  const problems: string[] = [];
  const get = (name: string) => {
    const v = env[name];
    return v === undefined || v === '' ? undefined : v;
  };
  const int = (name: string, min: number, max: number, fallback: number): number => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
      return fallback;
    }
    return Number(raw);
  };

  const host = get('GOVHOST_ROUTER_HOST') ?? ROUTER_DEFAULTS.host;
  if (!/^[A-Za-z0-9.:-]+$/.test(host)) {
    problems.push(`GOVHOST_ROUTER_HOST must be a host name or IP address, got ${JSON.stringify(host)}`);
  }
  const port = int('GOVHOST_ROUTER_PORT', 0, 65535, ROUTER_DEFAULTS.port);
  const adminPort = int('GOVHOST_ROUTER_ADMIN_PORT', 0, 65535, ROUTER_DEFAULTS.adminPort);
  const httpsPort =
    get('GOVHOST_ROUTER_HTTPS_PORT') === undefined ? null : int('GOVHOST_ROUTER_HTTPS_PORT', 0, 65535, 0);
  if (httpsPort !== null && httpsPort !== 0 && (httpsPort === port || httpsPort === adminPort)) {
    problems.push(`GOVHOST_ROUTER_HTTPS_PORT must differ from the HTTP and admin ports, got ${httpsPort}`);
  }
  const stateKey = get('GOVHOST_ROUTER_STATE_KEY') ?? null;
  if (stateKey !== null && Buffer.from(stateKey, 'base64').length !== 32) {
    problems.push('GOVHOST_ROUTER_STATE_KEY must be the base64 encoding of 32 random bytes');
  }
  const adminHost = get('GOVHOST_ROUTER_ADMIN_HOST') ?? ROUTER_DEFAULTS.adminHost;
  if (!isLoopback(adminHost)) {
    problems.push(`GOVHOST_ROUTER_ADMIN_HOST must be a loopback address, got ${JSON.stringify(adminHost)}`);
  }
  if (port !== 0 && port === adminPort) {
    problems.push(`GOVHOST_ROUTER_PORT and GOVHOST_ROUTER_ADMIN_PORT must differ, both are ${port}`);
  }
  const adminToken = get('GOVHOST_ROUTER_ADMIN_TOKEN');
  if (adminToken === undefined) {
    problems.push('GOVHOST_ROUTER_ADMIN_TOKEN must be set (the secret the control plane sends)');
  } else if (adminToken.length < 16) {
    problems.push('GOVHOST_ROUTER_ADMIN_TOKEN must be at least 16 characters long');
  }
  const statePath = resolve(get('GOVHOST_ROUTER_STATE') ?? '.govhost/router/routes.json');
  const bodyLimit = int('GOVHOST_ROUTER_BODY_LIMIT', 1024, 1024 ** 3, ROUTER_DEFAULTS.bodyLimit);
  // One proxy worker per CPU by default: a single Node process reached only ~0.7-0.77x nginx's
  // throughput on 2 CPUs, two workers ~0.9x (docs/decisions/007-router-process-model.md).
  const cpus = availableParallelism();
  const workers = int('GOVHOST_ROUTER_WORKERS', 0, 64, cpus > 1 ? cpus : 0);
  const shutdownGraceMs = int('GOVHOST_ROUTER_GRACE_MS', 0, 600_000, ROUTER_DEFAULTS.shutdownGraceMs);
  if (env.GOVHOST_ROUTER_TRUST_FORWARDED !== undefined) problems.push(TRUST_FORWARDED_REMOVED);
  const proxies = get('GOVHOST_ROUTER_TRUSTED_PROXIES');
  let trustedProxies: string[] = [];
  if (proxies !== undefined) {
    try {
      trustedProxies = parseTrustedProxies(proxies);
    } catch (err) {
      problems.push(`GOVHOST_ROUTER_TRUSTED_PROXIES ${(err as Error).message}`);
    }
  }
  // A router on another host follows the control plane's route table instead of waiting for
  // pushes to its loopback admin port (decision 023).
  const cpUrl = get('GOVHOST_ROUTER_CONTROL_PLANE');
  const cpToken = get('GOVHOST_ROUTER_CONTROL_PLANE_TOKEN');
  // Static routes from the control plane name folders this host serves: only under this one
  // (the control plane's apps folder, or a copy of it), so that neither it nor anyone between can
  // make the router serve /etc.
  const staticRoot = get('GOVHOST_ROUTER_STATIC_ROOT');
  let controlPlane: ControlPlaneSource | null = null;
  if (cpUrl !== undefined) {
    const why = controlPlaneUrlProblem(cpUrl);
    if (why) problems.push(`GOVHOST_ROUTER_CONTROL_PLANE ${why}`);
    if (cpToken === undefined)
      problems.push('GOVHOST_ROUTER_CONTROL_PLANE_TOKEN must be set with GOVHOST_ROUTER_CONTROL_PLANE');
    if (staticRoot !== undefined && !isAbsolute(staticRoot))
      problems.push(
        `GOVHOST_ROUTER_STATIC_ROOT must be an absolute folder path, got ${JSON.stringify(staticRoot)}`,
      );
    if (!why && cpToken !== undefined)
      controlPlane = {
        url: cpUrl,
        token: cpToken,
        staticRoot: staticRoot === undefined ? null : resolve(staticRoot),
      };
  } else {
    if (cpToken !== undefined)
      problems.push('GOVHOST_ROUTER_CONTROL_PLANE_TOKEN is set but GOVHOST_ROUTER_CONTROL_PLANE is not');
    if (staticRoot !== undefined)
      problems.push(
        'GOVHOST_ROUTER_STATIC_ROOT is set but GOVHOST_ROUTER_CONTROL_PLANE is not (pushed tables come from this host)',
      );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    controlPlane,
    host,
    port,
    httpsPort,
    stateKey,
    adminHost,
    adminPort,
    adminToken: adminToken!,
    statePath,
    bodyLimit,
    workers,
    shutdownGraceMs,
    trustedProxies,
  };
}
