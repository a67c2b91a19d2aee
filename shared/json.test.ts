import { describe, expect, it } from 'vitest';
import { copyJson, type JsonObject } from './json.ts';

describe('copyJson', () => {
  it('copies nested objects and arrays deeply: changing the copy leaves the original as it was', () => {
    const original: JsonObject = { a: 1, b: 'x', c: null, d: true, e: [1, { f: [2, 3] }], g: { h: { i: 'j' } } };
    const copy = copyJson(original);
    expect(copy).toEqual(original);
    expect(copy).not.toBe(original);
    ((copy.e as JsonObject[])[1] as JsonObject).f = [];
    (copy.g as JsonObject).h = 'gone';
    expect(original).toEqual({ a: 1, b: 'x', c: null, d: true, e: [1, { f: [2, 3] }], g: { h: { i: 'j' } } });
  });

  it('keeps an own "__proto__" key an own property instead of setting the prototype', () => {
    const original = JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}') as JsonObject;
    const copy = copyJson(original);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.hasOwn(copy, '__proto__')).toBe(true);
    expect((copy as { polluted?: unknown }).polluted).toBeUndefined();
    expect(copy.ok).toBe(1);
  });
});
