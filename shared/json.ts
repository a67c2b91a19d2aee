import { z } from 'zod';

/** Keys that could reach an object's prototype chain when a value is spread or merged. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Deepest nesting accepted in user-supplied JSON (extra_metadata). */
export const MAX_JSON_DEPTH = 8;

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** Why a JSON value is unacceptable, or null when it is fine. */
export function jsonProblem(value: unknown, depth = 0): string | null {
  if (depth > MAX_JSON_DEPTH) return `nested deeper than ${MAX_JSON_DEPTH} levels`;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return null;
  if (typeof value === 'number') return Number.isFinite(value) ? null : 'non-finite number';
  if (Array.isArray(value)) {
    for (const item of value) {
      const problem = jsonProblem(item, depth + 1);
      if (problem) return problem;
    }
    return null;
  }
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return 'not a plain object';
    for (const key of Object.keys(value)) {
      if (FORBIDDEN_KEYS.has(key)) return `forbidden key "${key}"`;
      const problem = jsonProblem((value as Record<string, unknown>)[key], depth + 1);
      if (problem) return problem;
    }
    return null;
  }
  return `unsupported type ${typeof value}`;
}

/**
 * A plain JSON object with no prototype-polluting keys, bounded depth (extra_metadata).
 * The raw value is checked before any object schema runs: zod's record parsing silently drops
 * a `__proto__` key, and a dropped key must be refused, not quietly accepted.
 */
export const JsonObjectSchema = z
  .unknown()
  .superRefine((value, ctx) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      ctx.addIssue({ code: 'custom', message: 'expected a JSON object' });
      return;
    }
    const problem = jsonProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: `invalid JSON object: ${problem}` });
  })
  // Validated just above: every nested value is JSON.
  .transform((value) => value as JsonObject);

/**
 * A deep copy of a JSON value. structuredClone does the same for any value at several times the
 * cost, and message views copy every message's metadata (most often `{}`) each time a page is read.
 */
export function copyJson<T extends JsonValue>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => copyJson(item)) as T;
  const copy: { [key: string]: JsonValue } = {};
  for (const key of Object.keys(value)) {
    const item = (value as { [key: string]: JsonValue })[key];
    if (item === undefined) continue;
    // An own "__proto__" stays an own property (assigning it would set the copy's prototype).
    if (key === '__proto__') Object.defineProperty(copy, key, { value: copyJson(item), enumerable: true, writable: true, configurable: true });
    else copy[key] = copyJson(item);
  }
  return copy as T;
}

