import type { EventType } from '../events/event-types.ts';

/*
 * Every NATS subject the hub uses, all under the config's `nats.subjectPrefix`:
 *   <prefix>.in.<type>             inbound events (the JetStream inbound stream)
 *   <prefix>.dlq.event             events that could not be applied (the dead-letter stream)
 *   <prefix>.dlq.push.<channel>    pushes out of attempts (the dead-letter stream)
 *   <prefix>.changed               committed ledger changes, for the other hubs sharing the ledger (plain NATS)
 *   <prefix>.query.inventory       inventory queries from agents (request-reply, plain NATS)
 */

/** Subjects under one prefix, so a single consumer filter (`<prefix>.in.>`) covers every command on NATS 2.9. */
export const inboundFilter = (prefix: string): string => `${prefix}.in.>`;
export const inboundSubject = (prefix: string, type: EventType): string => `${prefix}.in.${type}`;
export const deadLetterFilter = (prefix: string): string => `${prefix}.dlq.>`;
/** `event`: an inbound event that could not be applied; `push.<channel>`: a push out of attempts. */
export const deadLetterSubject = (prefix: string, kind: 'event' | `push.${string}`): string => `${prefix}.dlq.${kind}`;
/** Every push letter, of any channel. */
export const pushDeadLetterFilter = (prefix: string): string => `${prefix}.dlq.push.>`;
/** Committed ledger changes, so every hub sharing the ledger hears of them. */
export const changeSubject = (prefix: string): string => `${prefix}.changed`;
/** Where agents on the bus send inventory queries. */
export const inventoryQuerySubject = (prefix: string): string => `${prefix}.query.inventory`;

/** The event type a subject carries, or undefined when it is not an inbound subject of this prefix. */
export function typeFromSubject(prefix: string, subject: string): string | undefined {
  const head = `${prefix}.in.`;
  return subject.startsWith(head) ? subject.slice(head.length) : undefined;
}

/** Whether a subject is one of this prefix's dead-letter subjects. */
export function isDeadLetterSubject(prefix: string, subject: string): boolean {
  return subject.startsWith(`${prefix}.dlq.`);
}

/** The channel of a push letter's subject, or undefined when the subject is not a push letter of this prefix. */
export function pushLetterChannel(prefix: string, subject: string): string | undefined {
  const head = `${prefix}.dlq.push.`;
  return subject.startsWith(head) ? subject.slice(head.length) : undefined;
}
