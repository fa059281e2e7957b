// Runs a TypeScript fixture in a separate Node process, for tests of what must hold across processes.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface Child {
  process: ChildProcess;
  /** The next line the child prints (rejects if it exits first). */
  line(): Promise<string>;
  /** kill -9, resolved when the process is gone. */
  kill9(): Promise<void>;
}

export function runFixture(fixtureUrl: URL, args: string[]): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(fixtureUrl), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let buffered = '';
  let stderr = '';
  const lines: string[] = [];
  const waiting: { resolve: (l: string) => void; reject: (e: Error) => void }[] = [];
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => {
    exited = true;
    for (const w of waiting.splice(0)) w.reject(new Error(`fixture exited (${child.exitCode ?? child.signalCode}) before printing a line: ${stderr}`));
    resolve();
  }));
  child.stderr!.on('data', (chunk) => { stderr += String(chunk); });
  child.stdout!.on('data', (chunk) => {
    buffered += String(chunk);
    for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
      lines.push(buffered.slice(0, i));
      buffered = buffered.slice(i + 1);
    }
    while (lines.length && waiting.length) waiting.shift()!.resolve(lines.shift()!);
  });
  return {
    process: child,
    line: () => new Promise((resolve, reject) => {
      if (lines.length) resolve(lines.shift()!);
      else if (exited) reject(new Error(`fixture exited before printing a line: ${stderr}`));
      else waiting.push({ resolve, reject });
    }),
    async kill9() {
      if (!exited) child.kill('SIGKILL');
      await exit;
    },
  };
}
