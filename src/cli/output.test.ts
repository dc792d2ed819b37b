import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonText, printable, printableCell, table } from './output.ts';

// The rules every CLI write follows (main.ts routes stdout and stderr through `printable`).
describe('terminal escaping', () => {
  const esc = String.fromCharCode(0x1b);
  const csi1 = String.fromCharCode(0x9b);
  const del = String.fromCharCode(0x7f);

  it('keeps line feeds, tabs and CRLF in plain output and logs, and escapes every other control', () => {
    const log = `GET /\t200\r\n${esc}[31mred${esc}[0m\rfake line${csi1}2J${del}\u0000\n`;
    assert.equal(printable(log), 'GET /\t200\r\n\\x1b[31mred\\x1b[0m\\x0dfake line\\x9b2J\\x7f\\x00\n');
  });

  it('escapes line breaks and tabs too inside a table cell, so a row stays one row', () => {
    const out = table([{ name: `a\nb\tc${esc}]0;t` }], [['name', (r) => r.name]]);
    assert.equal(out, 'NAME\na\\x0ab\\x09c\\x1b]0;t');
    assert.equal(printableCell('報稅 ok'), '報稅 ok');
  });

  it('writes JSON whose strings carry controls only as \\u escapes', () => {
    const text = jsonText({ name: `x${esc}${del}${csi1}` });
    assert.equal(text, '{\n  "name": "x\\u001b\\u007f\\u009b"\n}');
    assert.equal(JSON.parse(text).name, `x${esc}${del}${csi1}`);
  });
});
