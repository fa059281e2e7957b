/**
 * The package as a user gets it: the tarball `npm pack` makes (its prepack builds dist/), installed
 * once from the npm registry into a temporary directory together with the tools the tests drive
 * (Vite, webpack, TypeScript, Deno, Bun, publint, attw). Each app fixture (test/package/fixtures/)
 * is copied into a subdirectory of that install, so all of them resolve the same node_modules.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

/** What the user-side install holds besides wafka; majors users have today. */
export const TOOLS: Record<string, string> = {
  vite: '^7.3.8',
  webpack: '^5.113.0',
  'webpack-cli': '^7.3.1',
  typescript: '~5.9.3',
  '@typescript/native-preview': '^7.0.0-dev.20260707.2',
  '@types/node': '^20.19.0',
  publint: '^0.3.25',
  '@arethetypeswrong/cli': '^0.18.5',
  deno: '^2.9.6',
  bun: '^1.4.5',
};

const execFileAsync = promisify(execFile);

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (bounded by timeoutMs) and returns its exit code and output; never throws on a non-zero exit. */
export async function run(command: string, args: string[], options: { cwd: string; timeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<RunResult> {
  try {
    const { stdout, stderr } = await execFileAsync(command, args, {
      cwd: options.cwd, timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 << 20, env: { ...process.env, ...options.env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number | string; stdout?: string; stderr?: string; message: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: `${e.stderr ?? ''}\n${e.message}` };
  }
}

/** Like run(), but a non-zero exit throws with the whole output. */
export async function mustRun(command: string, args: string[], options: { cwd: string; timeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<RunResult> {
  const result = await run(command, args, options);
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.code}\n${result.stdout}\n${result.stderr}`);
  return result;
}

/** npm with the child's own npm config: no audit, no funding notes, no update notice. */
const NPM_ENV = { npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };

export interface Installed {
  /** The temporary directory: package.json, node_modules, and one subdirectory per fixture. */
  dir: string;
  tarball: string;
  /** `tar tzf` of the tarball. */
  files: string[];
  bin(name: string): string;
}

/** Packs the repository (prepack builds dist/) and installs the tarball and TOOLS into a new temporary directory. */
export async function packAndInstall(): Promise<Installed> {
  const dir = await mkdtemp(join(tmpdir(), 'wafka-package-'));
  const packed = await mustRun('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: REPO, timeoutMs: 300_000, env: NPM_ENV });
  const tarball = join(dir, packed.stdout.trim().split('\n').at(-1)!);
  const files = (await mustRun('tar', ['tzf', tarball], { cwd: dir })).stdout.trim().split('\n');
  await writeFile(join(dir, 'package.json'), JSON.stringify({
    name: 'wafka-user', private: true, type: 'module',
    dependencies: { wafka: `file:${tarball}`, ...TOOLS },
  }, null, 2));
  await mustRun('npm', ['install', '--no-audit', '--no-fund'], { cwd: dir, timeoutMs: 600_000, env: NPM_ENV });
  return { dir, tarball, files, bin: (name) => join(dir, 'node_modules', '.bin', name) };
}

/** Copies fixtures/<name> into the install and returns its path there. */
export async function useFixture(installed: Installed, name: string): Promise<string> {
  const target = join(installed.dir, name);
  await rm(target, { recursive: true, force: true });
  await cp(join(FIXTURES, name), target, { recursive: true });
  return target;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface Served {
  url: string;
  output(): string;
  /** Sends `signal` (default SIGTERM) unless the server has exited; resolves with its exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts a long-running server (vite, vite preview) on 127.0.0.1 and waits until it answers HTTP. */
export async function serve(command: string, args: string[], options: { cwd: string; port: number; timeoutMs?: number }): Promise<Served> {
  const child: ChildProcess = spawn(command, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => { output += String(d); });
  child.stderr!.on('data', (d) => { output += String(d); });
  const url = `http://127.0.0.1:${options.port}/`;
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${command} ${args.join(' ')} exited ${child.exitCode}:\n${output}`);
    try {
      if ((await fetch(url)).ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${url} did not answer:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    output: () => output,
    stop: (signal = 'SIGTERM') => new Promise<number | null>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
      child.once('exit', (code) => resolve(code));
      child.kill(signal);
    }),
  };
}

export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

export async function emptyDir(dir: string): Promise<string> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  return dir;
}
