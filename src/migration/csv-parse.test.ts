// The CSV reader and the transition table, without a store: the cases a spreadsheet export
// brings (quotes, commas and line breaks in fields, CRLF, a byte-order mark), and the moves the
// table allows.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCsv } from './csv-parse.ts';
import { ITEM_STATES } from './migration.tables.ts';
import { nextStates, TRANSITIONS } from './migration-states.ts';

describe('parseCsv', () => {
  it('reads quoted fields with commas, doubled quotes and line breaks, keeping the start line', () => {
    const text = '\uFEFFref,name\r\nA-1,"Tax, ""e-filing"""\r\n\r\nA-2,"two\nlines"\nA-3,\n';
    assert.deepEqual(parseCsv(text), [
      { line: 1, fields: ['ref', 'name'] },
      { line: 2, fields: ['A-1', 'Tax, "e-filing"'] },
      { line: 4, fields: ['A-2', 'two\nlines'] },
      { line: 6, fields: ['A-3', ''] },
    ]);
  });
  it('names the line of a quote never closed, or text after a closing quote', () => {
    assert.throws(() => parseCsv('a,b\n1,"open\n2,3\n'), /^Error: line 2: a quoted field is never closed$/);
    assert.throws(() => parseCsv('a,b\n1,"x"y\n'), /^Error: line 2: text after a closing quote$/);
  });
});

describe('the transition table', () => {
  it('names every state, moves forward one step at a time, and ends at decommissioned', () => {
    assert.deepEqual(Object.keys(TRANSITIONS).sort(), [...ITEM_STATES].sort());
    const path = [
      'inventoried',
      'assessed',
      'scheduled',
      'migrating',
      'parallel-run',
      'cut-over',
      'decommissioned',
    ] as const;
    for (let i = 0; i + 1 < path.length; i++)
      assert.ok(TRANSITIONS[path[i]!].includes(path[i + 1]!), path[i]);
    assert.deepEqual(TRANSITIONS.decommissioned, []);
    assert.ok(!TRANSITIONS['cut-over'].includes('blocked'), 'a cut-over item is not blocked');
  });
  it('resumes a blocked item only where it stood', () => {
    assert.deepEqual(nextStates('blocked', 'migrating'), ['migrating']);
    assert.deepEqual(nextStates('blocked', null), []);
  });
});
