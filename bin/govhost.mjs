#!/usr/bin/env node
// The govhost command. GovHost runs its TypeScript sources through tsx (see docs/decisions/002).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
