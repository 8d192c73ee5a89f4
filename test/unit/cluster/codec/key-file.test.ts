import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MIN_KEY_BYTES, generateKey, loadKeyFile } from '../../../../src/cluster/key-file.js';
import { isVmacError, type ErrorCode } from '../../../../src/util/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'vmac-key-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** Writes a key file with exactly these contents and mode (chmod after write: umask must not interfere). */
function keyFile(contents: string | Uint8Array, mode = 0o600): string {
  const path = join(dir, `key-${n++}`);
  writeFileSync(path, contents);
  chmodSync(path, mode);
  return path;
}

/** The error code and message loadKeyFile throws, or 'ok'. */
function loadError(path: string): { code: ErrorCode; message: string } | 'ok' {
  try {
    loadKeyFile(path);
    return 'ok';
  } catch (err) {
    if (!isVmacError(err)) throw err;
    return { code: err.code, message: err.message };
  }
}

const HEX_KEY = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';

describe('loadKeyFile', () => {
  it('uses the raw bytes of a hex text key, minus one trailing newline', () => {
    expect(Buffer.from(loadKeyFile(keyFile(`${HEX_KEY}\n`))).toString()).toBe(HEX_KEY);
    expect(Buffer.from(loadKeyFile(keyFile(HEX_KEY))).toString()).toBe(HEX_KEY);
  });

  it('trims only one newline (CRLF counts as one)', () => {
    expect(Buffer.from(loadKeyFile(keyFile(`${HEX_KEY}\n\n`))).toString()).toBe(`${HEX_KEY}\n`);
    expect(Buffer.from(loadKeyFile(keyFile(`${HEX_KEY}\r\n`))).toString()).toBe(HEX_KEY);
  });

  it('takes binary keys byte for byte', () => {
    const binary = Uint8Array.from({ length: 32 }, (_, i) => (i * 37) & 0xff);
    expect(loadKeyFile(keyFile(binary))).toEqual(binary);
  });

  it('accepts 0400 and 0600, and exactly 16 bytes', () => {
    expect(loadError(keyFile(HEX_KEY, 0o400))).toBe('ok');
    expect(loadKeyFile(keyFile(`${'k'.repeat(MIN_KEY_BYTES)}\n`)).length).toBe(16);
  });

  it.each([0o640, 0o604, 0o644, 0o660, 0o610, 0o601, 0o666, 0o777])('refuses mode %o as insecure, naming the file and the fix', (mode) => {
    const path = keyFile(HEX_KEY, mode);
    const err = loadError(path);
    expect(err).toMatchObject({ code: 'VMAC_KEY_INSECURE' });
    expect(err !== 'ok' && err.message).toContain(path);
    expect(err !== 'ok' && err.message).toContain(`chmod 600 ${path}`);
    expect(err !== 'ok' && err.message).toContain(`0${mode.toString(8)}`);
  });

  it('refuses a key shorter than 16 bytes after trimming the newline', () => {
    const path = keyFile(`${'k'.repeat(MIN_KEY_BYTES - 1)}\n`);
    expect(loadError(path)).toMatchObject({ code: 'VMAC_KEY_INVALID', message: expect.stringContaining(path) as unknown });
    expect(loadError(keyFile(''))).toMatchObject({ code: 'VMAC_KEY_INVALID' });
  });

  it('refuses a file far larger than any key (probably the wrong path)', () => {
    expect(loadError(keyFile('x'.repeat(5000)))).toMatchObject({ code: 'VMAC_KEY_INVALID' });
  });

  it('refuses a directory and a FIFO as not regular files, without hanging on the FIFO', () => {
    const sub = join(dir, 'a-directory');
    mkdirSync(sub, { mode: 0o700 });
    expect(loadError(sub)).toMatchObject({ code: 'VMAC_KEY_INVALID', message: expect.stringContaining('not a regular file') as unknown });
    const fifo = join(dir, 'a-fifo');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    expect(loadError(fifo)).toMatchObject({ code: 'VMAC_KEY_INVALID', message: expect.stringContaining('not a regular file') as unknown });
  });

  it('judges the target of a symlink', () => {
    const target = keyFile(HEX_KEY, 0o644);
    const link = join(dir, 'link-to-open-key');
    symlinkSync(target, link);
    expect(loadError(link)).toMatchObject({ code: 'VMAC_KEY_INSECURE' });
    chmodSync(target, 0o600);
    expect(loadError(link)).toBe('ok');
  });

  it('reports a missing file as unreadable, with the errno and the path', () => {
    const path = join(dir, 'no-such-key');
    expect(loadError(path)).toEqual({ code: 'VMAC_KEY_UNREADABLE', message: `cannot read heartbeat key file ${path}: ENOENT` });
  });
});

describe('generateKey', () => {
  it('gives 64 lower-case hex characters, different each time, loadable as a key', () => {
    const a = generateKey();
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(generateKey()).not.toBe(a);
    expect(Buffer.from(loadKeyFile(keyFile(`${a}\n`))).toString()).toBe(a);
  });
});
