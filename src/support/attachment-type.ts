/**
 * What an attachment is, read from its first bytes, never from its name or the uploader's word: a
 * file that claims to be a PDF but starts like an executable is refused. The allow-list is short
 * on purpose: screenshots, scans and logs are what a support ticket needs.
 */
const SIGNATURES: { type: string; bytes: number[] }[] = [
  { type: 'image/png', bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
  { type: 'image/jpeg', bytes: [0xff, 0xd8, 0xff] },
  { type: 'application/pdf', bytes: [0x25, 0x50, 0x44, 0x46, 0x2d] },
];

export const ALLOWED_TYPES = [...SIGNATURES.map((s) => s.type), 'text/plain'] as const;

// Text is UTF-8 without control characters other than tab, line breaks and form feed.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u0008\u000b\u000e-\u001f\u007f]/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The media type of `data` if it is on the allow-list, else null. */
export function sniffType(data: Uint8Array): string | null {
  for (const s of SIGNATURES) {
    if (data.length >= s.bytes.length && s.bytes.every((b, i) => data[i] === b)) return s.type;
  }
  try {
    return CONTROL.test(utf8.decode(data)) ? null : 'text/plain';
  } catch {
    return null;
  }
}
