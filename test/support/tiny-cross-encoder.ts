/**
 * A tiny BERT-shaped cross-encoder with random weights, built by test/fixtures/build-tiny-cross-encoder.py
 * (Debian's python3-onnx; no model can be downloaded here). It proves the cross-encoder's code
 * path, not a model's quality. Built once per test process into a temporary folder.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

export type TinyCrossEncoder = { folder: string } | { unavailable: string };

const script = resolve('test/fixtures/build-tiny-cross-encoder.py');
/** Debian's python first: the packages the script needs come from apt, not from a pyenv. */
const pythons = ['/usr/bin/python3', 'python3'];

let building: Promise<TinyCrossEncoder> | undefined;

/** The model folder, or why it cannot be built; with RAGQL_REQUIRE_CROSS_ENCODER=1, a failure throws. */
export function tinyCrossEncoder(): Promise<TinyCrossEncoder> {
  building ??= build().then((result) => {
    if ('unavailable' in result && process.env.RAGQL_REQUIRE_CROSS_ENCODER === '1') {
      throw new Error(`RAGQL_REQUIRE_CROSS_ENCODER=1, but ${result.unavailable}`);
    }
    return result;
  });
  return building;
}

async function build(): Promise<TinyCrossEncoder> {
  const folder = join(mkdtempSync(join(tmpdir(), 'ragql-cross-encoder-')), 'tiny-cross-encoder');
  const failures: string[] = [];
  for (const python of pythons) {
    if (python.startsWith('/') && !existsSync(python)) continue;
    try {
      await promisify(execFile)(python, [script, folder]);
      return { folder };
    } catch (error) {
      failures.push(
        `${python}: ${(error as { stderr?: string }).stderr?.trim().split('\n').at(-1) ?? String(error)}`,
      );
    }
  }
  return {
    unavailable: `the tiny cross-encoder could not be built (install python3-onnx and python3-numpy with apt): ${failures.join('; ')}`,
  };
}
