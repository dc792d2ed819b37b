// The table of command groups that a `govhost` process loads from (command-groups.ts): the names
// it gives each group are the commands that group adds, and a command line loads the groups of its
// command, or all of them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { cleanEnv } from '../test-support/server-process.ts';
import { COMMAND_GROUPS, groupsFor } from './command-groups.ts';

const BIN = fileURLToPath(new URL('../../bin/govhost.mjs', import.meta.url));
const names = (program: Command) => program.commands.map((c) => c.name());

describe('command groups', () => {
  it('names exactly the top-level commands each group adds on its own', async () => {
    for (const group of COMMAND_GROUPS) {
      const program = new Command('govhost');
      (await group.load())(program);
      assert.deepEqual(names(program), group.names, `${group.load}`);
    }
  });

  it('adds every command once when all are loaded, as `govhost --help` lists them', async () => {
    const program = new Command('govhost');
    for (const group of COMMAND_GROUPS) (await group.load())(program);
    assert.deepEqual(names(program), [...new Set(COMMAND_GROUPS.flatMap((g) => g.names))]);
  });

  it('loads the groups of the command, after the program options', () => {
    const of = (...args: string[]) => groupsFor(args).map((g) => g.names.join(','));
    assert.deepEqual(of('services', 'list', '--all'), ['services']);
    assert.deepEqual(of('--json', '--url', 'http://127.0.0.1:7070', 'status', 'IRD/hello'), [
      'scale,status,logs',
    ]);
    assert.deepEqual(of('--token=ghk_x', 'migration', 'front', 'IRD/hello'), ['migration', 'migration']);
    // Only an option value, not the command: `--url deploy` is an address named deploy.
    assert.deepEqual(of('--url', 'deploy', 'whoami'), ['login,logout,whoami']);
  });

  it('loads every group for help, the version, an unknown word or an unknown option', () => {
    for (const args of [
      [],
      ['--help'],
      ['-V'],
      ['help', 'deploy'],
      ['servces', 'list'],
      ['--bogus', 'services'],
    ])
      assert.equal(groupsFor(args), COMMAND_GROUPS, args.join(' '));
  });

  it('as a process: help lists every command, and a typo is told the command it resembles', () => {
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: cleanEnv() });
    const help = run('--help');
    assert.equal(help.status, 0, help.stderr);
    for (const name of new Set(COMMAND_GROUPS.flatMap((g) => g.names)))
      assert.match(help.stdout, new RegExp(`^ {2}${name}\\b`, 'm'), name);
    const typo = run('servces', 'list');
    assert.equal(typo.status, 2);
    assert.match(typo.stderr, /unknown command 'servces'[\s\S]*Did you mean services\?/);
  });
});
