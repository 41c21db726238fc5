import { describeError, type SimulatorFault, type SimulatorHandle } from '../../sdk.ts';
import { skip } from './check-outcome.ts';

/**
 * Sets `fault` on the simulator, or skips the check with the simulator's reason when it does not
 * implement that kind: a check never runs believing it injected a fault that is not there.
 */
export function injectFault(simulator: SimulatorHandle, fault: SimulatorFault): void {
  if (simulator.faults && !simulator.faults.includes(fault.kind)) {
    skip(`the simulator does not implement the "${fault.kind}" fault (it implements: ${simulator.faults.join(', ') || 'none'})`);
  }
  try {
    simulator.setFault(fault);
  } catch (err) {
    skip(`the simulator does not implement the "${fault.kind}" fault: ${describeError(err)}`);
  }
}

/** Runs `body` with `fault` set on the simulator (see {@link injectFault}), clearing it afterwards whatever happens. */
export async function withFault<T>(simulator: SimulatorHandle, fault: SimulatorFault, body: () => Promise<T>): Promise<T> {
  injectFault(simulator, fault);
  try {
    return await body();
  } finally {
    simulator.setFault(null);
  }
}
