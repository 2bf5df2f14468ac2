import { describe, expect, it } from 'vitest';
import type { Duration } from '../../domain/brands';
import { haproxyDuration, haproxyEscape, logFormatText } from './escape';

describe('haproxyEscape', () => {
  it('escapes what HAProxy interprets inside double quotes, and keeps everything else', () => {
    expect(haproxyEscape('a"b\\c$d#e\'f')).toBe('a\\"b\\\\c\\$d\\#e\\\'f');
    expect(haproxyEscape('plain text; {braces} %[src] 1,2')).toBe('plain text; {braces} %[src] 1,2');
    expect(haproxyEscape(42)).toBe('42');
  });

  it('refuses control characters, so no value can end a line', () => {
    for (const bad of ['a\nb', 'a\rb', 'a\tb', '\u0000', '\u007f']) expect(() => haproxyEscape(bad)).toThrow(/control character/);
  });
});

describe('logFormatText', () => {
  it('doubles "%" so no user text becomes a log-format directive', () => {
    expect(logFormatText('100% %[src] %{+Q}r %%')).toBe('100%% %%[src] %%{+Q}r %%%%');
  });
});

describe('haproxyDuration', () => {
  it('keeps single-unit durations and turns compound ones into the largest exact unit', () => {
    const d = (s: string) => haproxyDuration(s as Duration);
    expect(d('30s')).toBe('30s');
    expect(d('500ms')).toBe('500ms');
    expect(d('7d')).toBe('7d');
    expect(d('1h30m')).toBe('90m');
    expect(d('1m30s')).toBe('90s');
    expect(d('1s500ms')).toBe('1500ms');
    expect(d('1d12h')).toBe('36h');
  });
});
