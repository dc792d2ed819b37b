/**
 * Turns YAML syntax nodes into checked values, or into errors and warnings that name the line
 * (`manifest.yml line 7: applications[0].instances must be ...`): a plain object has lost its lines.
 */
import { type Document, isAlias, isMap, isScalar, LineCounter, type Node, parseDocument, Scalar } from 'yaml';
import { DomainError } from '../platform/errors.ts';

const MB_PER_UNIT: Record<string, number> = { K: 1 / 1024, M: 1, G: 1024, T: 1024 * 1024 };

/** Megabytes in a CF size such as `256M`, `1G` or `512MB`; null when it is not one or not whole MB. */
export function parseSizeMb(text: string): number | null {
  const m = /^(\d+)\s*([KMGT])B?$/i.exec(text.trim());
  if (!m) return null;
  const mb = Number(m[1]) * MB_PER_UNIT[m[2]!.toUpperCase()]!;
  return Number.isSafeInteger(mb) ? mb : null;
}

/** Where we are in the document: turns syntax nodes into values, or into errors naming their line. */
export class ManifestReader {
  readonly warnings: string[] = [];
  private readonly lines = new LineCounter();
  /** The document's top node; null for an empty file. */
  readonly contents: unknown;
  private readonly doc: Document;

  /** Parses `text`; a YAML syntax error is thrown at once, with its line and column. */
  constructor(
    text: string,
    readonly fileName: string,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false });
    const syntax = this.doc.errors[0];
    if (syntax) {
      const { line, col } = this.lines.linePos(syntax.pos[0]);
      throw new DomainError(
        'GOVHOST_MANIFEST_INVALID',
        `${fileName} line ${line}, column ${col}: not valid YAML: ${syntax.message}`,
        { file: fileName, line, column: col, field: null },
      );
    }
    this.contents = this.doc.contents;
  }

  /** An alias (`*name`) stands for the node it names. */
  deref(node: unknown): unknown {
    return isAlias(node) ? node.resolve(this.doc) : node;
  }

  line(node: unknown): number {
    const range = (node as Node | null)?.range;
    return range ? this.lines.linePos(range[0]).line : 1;
  }
  error(node: unknown, field: string, problem: string): DomainError {
    const line = this.line(node);
    return new DomainError('GOVHOST_MANIFEST_INVALID', `${this.fileName} line ${line}: ${field} ${problem}`, {
      file: this.fileName,
      line,
      field,
    });
  }
  warn(node: unknown, text: string): void {
    this.warnings.push(`${this.fileName} line ${this.line(node)}: ${text}`);
  }
  /** The pairs of a map, each with its key as text, aliases resolved. */
  entries(
    node: unknown,
    field: string,
    what: string,
  ): Array<{ key: string; keyNode: unknown; value: unknown }> {
    const map = this.deref(node);
    if (!isMap(map)) throw this.error(node, field, `must be ${what}`);
    return map.items.map((pair) => {
      if (!isScalar(pair.key)) throw this.error(pair.key, field, 'has a key that is not text');
      const key = String(pair.key.value);
      // `{a}` has no value node at all: stand in a null that sits on the key's line.
      const value =
        this.deref(pair.value) ?? Object.assign(new Scalar(null), { range: (pair.key as Node).range });
      return { key, keyNode: pair.key, value };
    });
  }
  scalar(node: unknown): unknown {
    return isScalar(node) ? node.value : node;
  }
  text(node: unknown, field: string): string {
    const v = this.scalar(node);
    if (typeof v !== 'string' || v.trim() === '') throw this.error(node, field, 'must be non-empty text');
    return v.trim();
  }
  wholeNumber(node: unknown, field: string, min: number, max: number): number {
    const v = this.scalar(node);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw this.error(node, field, `must be a whole number from ${min} to ${max}`);
    }
    return v;
  }
  size(node: unknown, field: string, min: number, max: number): number {
    const v = this.scalar(node);
    const mb = typeof v === 'string' ? parseSizeMb(v) : null;
    const range = `from ${min}M to ${max / 1024}G`;
    if (mb === null) throw this.error(node, field, `must be a size with a unit such as 256M or 1G, ${range}`);
    if (mb < min || mb > max) throw this.error(node, field, `must be ${range}, not ${v}`);
    return mb;
  }
}
