import type { EventType } from '../events/event-types.ts';

/** Subjects under one prefix, so a single consumer filter (`<prefix>.in.>`) covers every command on NATS 2.9. */
export const inboundFilter = (prefix: string): string => `${prefix}.in.>`;
export const inboundSubject = (prefix: string, type: EventType): string => `${prefix}.in.${type}`;
export const deadLetterFilter = (prefix: string): string => `${prefix}.dlq.>`;
/** `event`: an inbound event that could not be applied; `push.<channel>`: a push out of attempts. */
export const deadLetterSubject = (prefix: string, kind: 'event' | `push.${string}`): string => `${prefix}.dlq.${kind}`;

/** The event type a subject carries, or undefined when it is not an inbound subject of this prefix. */
export function typeFromSubject(prefix: string, subject: string): string | undefined {
  const head = `${prefix}.in.`;
  return subject.startsWith(head) ? subject.slice(head.length) : undefined;
}
