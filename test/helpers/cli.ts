// The real CLI, run as a child process through tsx (no build needed).
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

const MAIN = resolve('src/cli/main.ts');
// Children run in temp directories, where the bare name 'tsx' does not resolve.
const TSX = import.meta.resolve('tsx');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `axon ...args` in `cwd` and collects what it printed. */
export function runCli(args: string[], cwd: string): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', TSX, MAIN, ...args], { cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** The command line that runs the CLI, for tests that manage the child themselves. */
export function cliCommand(args: string[]): [string, string[]] {
  return [process.execPath, ['--import', TSX, MAIN, ...args]];
}
