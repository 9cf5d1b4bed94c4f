import { findUnstorableJson } from './body-guard.js';

describe('findUnstorableJson', () => {
  it.each<[string, unknown, RegExp]>([
    ['NUL in a value', { a: ['x\u0000'] }, /^a\[0\] contains a NUL/],
    ['NUL in a member name', { 'a\u0000': 1 }, /member of the body contains a NUL/],
    ['a lone high surrogate', { a: 'x\ud800' }, /lone UTF-16 surrogate/],
    ['a lone low surrogate', { a: '\udc00x' }, /lone UTF-16 surrogate/],
    ['a reversed pair', { a: '\udc00\ud800' }, /lone UTF-16 surrogate/],
    ['Infinity from 1e400', JSON.parse('{"a":{"b":1e400}}'), /^a\.b is a number out of range/],
    ['__proto__ from JSON.parse', JSON.parse('{"__proto__":{"admin":true}}'), /named __proto__/],
    ['constructor', { constructor: 1 }, /named constructor/],
    ['nesting past the limit', JSON.parse('['.repeat(33) + ']'.repeat(33)), /nested deeper than 32/],
    ['10,000 levels, without recursion', JSON.parse('{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000)), /nested deeper than 32/],
  ])('finds %s', (_name, value, message) => {
    expect(findUnstorableJson(value)).toMatch(message);
  });

  it.each<[string, unknown]>([
    ['a surrogate pair (an emoji)', { a: '\ud83d\ude00' }],
    ['32 levels exactly', JSON.parse('['.repeat(32) + ']'.repeat(32))],
    ['ordinary values', { a: [1, -2.5, true, null, 'text', { b: 'ü' }] }],
    ['a member named like a prototype property but not one', { proto: 1, __proto: 2 }],
  ])('accepts %s', (_name, value) => {
    expect(findUnstorableJson(value)).toBeUndefined();
  });
});
