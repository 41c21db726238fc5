import type { ChildProcess } from 'node:child_process';

/** Whether `child` was started and has not exited yet. */
export function isRunning(child: ChildProcess | undefined): child is ChildProcess {
  return child !== undefined && child.exitCode === null && child.signalCode === null;
}

/**
 * Sends `signal` to a running child and resolves once it has exited; with SIGTERM, a child still
 * running after `graceMs` gets SIGKILL.
 */
export async function stopProcess(child: ChildProcess | undefined, signal: 'SIGKILL' | 'SIGTERM', graceMs = 20_000): Promise<void> {
  if (!isRunning(child)) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  const timer = signal === 'SIGTERM' ? setTimeout(() => child.kill('SIGKILL'), graceMs) : undefined;
  await exited;
  if (timer) clearTimeout(timer);
}
