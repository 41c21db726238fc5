import type { EventType } from './event-types.ts';

/** The subject an event of `type` travels on: `<prefix>.in.<type>`. */
export function eventSubject(prefix: string, type: EventType): string {
  return `${prefix}.in.${type}`;
}
