/**
 * The cluster's shared heartbeat key, read from a file the way ssh reads a private key: refused
 * if anyone but its owner could read or change it, because whoever holds it can forge heartbeats
 * and so steer takeovers.
 *
 * The key is the file's raw bytes minus one trailing newline, so `openssl rand -hex 32 > key`
 * (64 hex characters, what generateKey() returns too) or any base64 text works as-is: its characters are the key. Every node must hold
 * the same bytes; trimming only one newline keeps that rule simple to state.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readFileSync, type Stats } from 'node:fs';
import { VmacError } from '../util/errors.js';

/** 128 bits: the least that makes guessing the key hopeless. */
export const MIN_KEY_BYTES = 16;
/** Much larger than any sane key: a bigger file is almost certainly the wrong path. */
export const MAX_KEY_FILE_BYTES = 1024;
/** Group and other permission bits: any of them set exposes the key. */
const GROUP_OTHER_BITS = 0o077;

/**
 * Reads and checks the key file. Throws VmacError: VMAC_KEY_UNREADABLE (cannot open or read),
 * VMAC_KEY_INVALID (not a regular file, too short, too long), VMAC_KEY_INSECURE (group/other bits).
 */
export function loadKeyFile(path: string): Uint8Array {
  const fd = openKey(path);
  try {
    const stats = fstatKey(fd, path);
    checkKind(stats, path);
    checkMode(stats, path);
    if (stats.size > MAX_KEY_FILE_BYTES) invalid(path, `is ${stats.size} bytes, more than ${MAX_KEY_FILE_BYTES}: is this the right file?`);
    const key = trimOneNewline(readKey(fd, path));
    if (key.length > MAX_KEY_FILE_BYTES) invalid(path, `is more than ${MAX_KEY_FILE_BYTES} bytes: is this the right file?`);
    if (key.length < MIN_KEY_BYTES) invalid(path, `holds ${key.length} bytes, fewer than ${MIN_KEY_BYTES}; generate one with: openssl rand -hex 32 > ${path}`);
    return key;
  } finally {
    closeSync(fd);
  }
}

/** A fresh key as text: 64 hex characters (256 random bits), ready to write to a key file. */
export function generateKey(): string {
  return randomBytes(32).toString('hex');
}

/**
 * Opens without blocking, so a FIFO at the key path is refused by the checks below instead of
 * hanging startup. Checks then run on the open descriptor (fstat), so the file we judged is the
 * file we read. A symlink is followed: its target is what gets judged.
 */
function openKey(path: string): number {
  try {
    return openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    throw unreadable(path, err);
  }
}

function fstatKey(fd: number, path: string): Stats {
  try {
    return fstatSync(fd);
  } catch (err) {
    throw unreadable(path, err);
  }
}

function readKey(fd: number, path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(fd));
  } catch (err) {
    throw unreadable(path, err);
  }
}

function checkKind(stats: Stats, path: string): void {
  if (!stats.isFile()) invalid(path, 'is not a regular file');
}

function checkMode(stats: Stats, path: string): void {
  const mode = stats.mode & 0o777;
  if ((mode & GROUP_OTHER_BITS) === 0) return;
  throw new VmacError(
    'VMAC_KEY_INSECURE',
    `heartbeat key file ${path} is accessible by group or others (mode ${octal(mode)}); run: chmod 600 ${path}`,
    { path, mode: octal(mode) },
  );
}

/** Drops one trailing "\n" (or "\r\n", so a key saved by a Windows editor still matches). */
function trimOneNewline(bytes: Uint8Array): Uint8Array {
  const n = bytes.length;
  if (n === 0 || bytes[n - 1] !== 0x0a) return bytes;
  return bytes.subarray(0, n >= 2 && bytes[n - 2] === 0x0d ? n - 2 : n - 1);
}

function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}

function invalid(path: string, what: string): never {
  throw new VmacError('VMAC_KEY_INVALID', `heartbeat key file ${path} ${what}`, { path });
}

function unreadable(path: string, err: unknown): VmacError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? 'unknown error';
  return new VmacError('VMAC_KEY_UNREADABLE', `cannot read heartbeat key file ${path}: ${code}`, { path, errno: code }, { cause: err });
}
