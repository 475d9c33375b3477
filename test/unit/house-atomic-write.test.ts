// The one atomic write (src/shell/fs/atomic-write.ts), on the real filesystem: content and mode
// exactly, folders created, nothing left beside the file on success or failure, the old file kept
// when the write fails, and concurrent writers never interleave.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempPathFor, writeFileAtomic } from '../../src/shell/fs/atomic-write.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'house-atomic-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const modeOf = (path: string): number => statSync(path).mode & 0o777;

describe('writeFileAtomic', () => {
  it('writes the text, creating the folders on the way, and leaves nothing beside it', async () => {
    const file = join(dir, 'hosts', 'pluto', 'node.manifest');
    await writeFileAtomic(file, 'node=pluto\n');
    expect(readFileSync(file, 'utf8')).toBe('node=pluto\n');
    expect(readdirSync(join(dir, 'hosts', 'pluto'))).toEqual(['node.manifest']);
    expect(modeOf(file)).toBe(0o644);
  });

  it('gives the file exactly the mode asked for, whatever the umask, and replaces a looser file', async () => {
    const file = join(dir, 'prompt.md');
    await writeFile(file, 'old', { mode: 0o666 });
    await writeFileAtomic(file, 'secret-free prompt', { mode: 0o600 });
    expect(modeOf(file)).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toBe('secret-free prompt');
    const manifest = join(dir, 'node.manifest');
    const old = process.umask(0o077);
    try {
      await writeFileAtomic(manifest, 'node=pluto\n');
    } finally {
      process.umask(old);
    }
    expect(modeOf(manifest)).toBe(0o644);
  });

  it('on failure keeps what was there and removes its temp file', async () => {
    // The target is a folder: the rename fails after the temp file was written.
    const target = join(dir, 'taken');
    mkdirSync(join(target, 'inside'), { recursive: true });
    await expect(writeFileAtomic(target, 'x')).rejects.toThrow();
    expect(readdirSync(dir)).toEqual(['taken']);
    expect(readdirSync(target)).toEqual(['inside']);
  });

  it('on failure to write keeps the old file whole', async () => {
    const file = join(dir, 'topology.yaml');
    await writeFile(file, 'homelab: lab\n');
    // Uint8Array-like data the handle cannot write: the write itself throws.
    const bad = { length: 1 } as unknown as Uint8Array;
    await expect(writeFileAtomic(file, bad)).rejects.toThrow();
    expect(readFileSync(file, 'utf8')).toBe('homelab: lab\n');
    expect(readdirSync(dir)).toEqual(['topology.yaml']);
  });

  it('concurrent writers leave one whole version, never a mix, and no temp files', async () => {
    const file = join(dir, 'node.manifest');
    const texts = Array.from({ length: 20 }, (_, i) => `${String(i).repeat(50_000)}\n`);
    await Promise.all(texts.map((t) => writeFileAtomic(file, t)));
    expect(texts).toContain(readFileSync(file, 'utf8'));
    expect(readdirSync(dir)).toEqual(['node.manifest']);
  });

  it('names its temp file hidden, beside the target, unique per call', () => {
    const a = tempPathFor('/r/hosts/pluto/node.manifest');
    const b = tempPathFor('/r/hosts/pluto/node.manifest');
    expect(a).toMatch(/^\/r\/hosts\/pluto\/\.node\.manifest\.[0-9a-f]{12}\.tmp$/);
    expect(a).not.toBe(b);
  });
});
