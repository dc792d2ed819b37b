/**
 * Loopback ports for instances. An instance keeps its port across restarts (the router's
 * backend stays the same), so ports come from below the kernel's ephemeral range: there an
 * outgoing connection of some other program cannot take the port while the instance restarts.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const FIRST_PORT = 20_000;
const ATTEMPTS = 50;

/** The lowest port the kernel hands out for outgoing connections (32768 by default). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

/** Resolves true when nothing listens on the port on any address. */
function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    // No host: the IPv6 wildcard, dual stack where possible, so it clashes with any listener.
    server.listen({ port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export class PortAllocator {
  private readonly inUse = new Set<number>();
  private readonly low: number;
  private readonly high: number;

  constructor(range?: [number, number]) {
    this.low = range?.[0] ?? FIRST_PORT;
    this.high = range?.[1] ?? ephemeralLow() - 1;
  }

  /** Marks a port as taken by an instance found in a state record. */
  reserve(port: number): void {
    this.inUse.add(port);
  }

  release(port: number): void {
    this.inUse.delete(port);
  }

  /** A port that no instance of ours holds and that nothing listens on now. */
  async allocate(): Promise<number> {
    const span = this.high - this.low + 1;
    if (span < 1) throw new Error(`no ports to give: the range ${this.low}-${this.high} is empty`);
    for (let i = 0; i < ATTEMPTS; i++) {
      const port = this.low + Math.floor(Math.random() * span);
      if (this.inUse.has(port)) continue;
      this.inUse.add(port);
      if (await isFree(port)) return port;
      this.inUse.delete(port);
    }
    throw new Error(`no free loopback port found in ${this.low}-${this.high} after ${ATTEMPTS} tries`);
  }
}
