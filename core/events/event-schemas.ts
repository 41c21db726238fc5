import { readFileSync } from 'node:fs';
import { EVENT_TYPES, type EventType } from './event-types.ts';
import type { JsonSchema } from '../sdk.ts';

/** The published JSON Schema of each inbound event type, as shipped in `config/events/`. */
export const EVENT_SCHEMAS: Readonly<Record<EventType, JsonSchema>> = Object.freeze(
  Object.fromEntries(
    EVENT_TYPES.map((type) => [type, JSON.parse(readFileSync(new URL(`../../config/events/${type}.schema.json`, import.meta.url), 'utf8')) as JsonSchema]),
  ) as Record<EventType, JsonSchema>,
);
