/**
 * HAProxy dynamic endpoints (ADR 0031), the pure parts: slot counts, the agent's slot assignment
 * (a task keeps its slot; a new task does not take a slot freed in the same change; additions come
 * before removals) and the server-state file it writes and reads back.
 */
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assignSlots, HaproxyEndpoints, parseHaproxyEndpoints, parseServerState, serverStateText } from '../../src/agent/haproxy-endpoints';
import { MIN_SLOTS, slotCount } from '../../src/render/haproxy/dynamic-slots';

const wanted = (text: string) => parseHaproxyEndpoints(text);

describe('slot counts', () => {
  it('are at least MIN_SLOTS and double until every member fits', () => {
    expect([0, 1, 8, 9, 16, 17, 100].map(slotCount)).toEqual([MIN_SLOTS, 8, 8, 16, 16, 32, 128]);
  });
});

describe('slot assignment', () => {
  it('fills free slots in order on a first assignment, checks brought up before ready', () => {
    const r = assignSlots(new Map(), wanted('be.a 8 1 10.0.0.1:80 10.0.0.2:80\n'));
    expect(r.table.get('be.a')?.slots).toEqual(['10.0.0.1:80', '10.0.0.2:80', null, null, null, null, null, null]);
    expect(r.commands).toEqual([
      'set server be.a/s1 addr 10.0.0.1 port 80',
      'set server be.a/s1 health up',
      'set server be.a/s1 state ready',
      'set server be.a/s2 addr 10.0.0.2 port 80',
      'set server be.a/s2 health up',
      'set server be.a/s2 state ready',
    ]);
  });

  it('keeps a staying task in its slot, does not hand a freed slot to a new task in the same change, adds before it removes', () => {
    const first = assignSlots(new Map(), wanted('be.a 8 0 10.0.0.1:80 10.0.0.2:80\n')).table;
    const r = assignSlots(first, wanted('be.a 8 0 10.0.0.2:80 [fd00::3]:80\n'));
    expect(r.table.get('be.a')?.slots.slice(0, 3)).toEqual([null, '10.0.0.2:80', '[fd00::3]:80']);
    expect(r.commands).toEqual(['set server be.a/s3 addr fd00::3 port 80', 'set server be.a/s3 state ready', 'set server be.a/s1 state maint']);
    // Nothing changes: nothing to send.
    expect(assignSlots(r.table, wanted('be.a 8 0 10.0.0.2:80 [fd00::3]:80\n')).commands).toEqual([]);
  });

  it('reuses a freed slot once no never-used slot is left', () => {
    const full = assignSlots(new Map(), wanted(`be.a 8 0 ${Array.from({ length: 8 }, (_, i) => `10.0.0.${i + 1}:80`).join(' ')}\n`)).table;
    const r = assignSlots(full, wanted(`be.a 8 0 ${Array.from({ length: 7 }, (_, i) => `10.0.0.${i + 2}:80`).join(' ')} 10.0.1.1:80\n`));
    expect(r.table.get('be.a')?.slots[0]).toBe('10.0.1.1:80');
  });

  it('sends commands only for the slots of the backend that changed (ADR 0038)', () => {
    const set = (b: string) => `be.a 8 0 10.0.0.1:80 10.0.0.2:80\nbe.b 8 1 ${b}\nbe.c 8 0 10.0.2.1:80\n`;
    const first = assignSlots(new Map(), wanted(set('10.0.1.1:80'))).table;
    const r = assignSlots(first, wanted(set('10.0.1.1:80 10.0.1.2:80')));
    expect(r.commands).toEqual(['set server be.b/s2 addr 10.0.1.2 port 80', 'set server be.b/s2 health up', 'set server be.b/s2 state ready']);
  });

  it('with whole, sets every slot: filled ones to their task, empty ones to maintenance', () => {
    const first = assignSlots(new Map(), wanted('be.a 8 0 10.0.0.1:80\n')).table;
    const r = assignSlots(first, wanted('be.a 8 0 10.0.0.1:80\n'), true);
    expect(r.commands).toEqual([
      'set server be.a/s1 addr 10.0.0.1 port 80',
      'set server be.a/s1 state ready',
      ...[2, 3, 4, 5, 6, 7, 8].map((i) => `set server be.a/s${i} state maint`),
    ]);
  });

  it('after a push HAProxy refused, the next one sets every slot (the worker may hold part of the refused change)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-hap-slots-'));
    const received: string[] = [];
    let answer = 'No such server.\n';
    const server = createServer((c) => {
      c.setEncoding('utf8');
      c.on('data', (d: string) => received.push(...d.trim().split('; ')));
      c.on('end', () => c.end(answer));
    });
    await new Promise<void>((r) => server.listen(join(dir, 'admin.sock'), r));
    try {
      const slots = new HaproxyEndpoints(dir);
      expect(slots.stage('be.a 8 0 10.0.0.1:80\n').ok).toBe(true);
      expect((await slots.push(dir, 'endpoints.txt', Buffer.from('be.a 8 0 10.0.0.1:80 10.0.0.2:80\n'))).ok).toBe(false);
      answer = '';
      received.length = 0;
      expect(await slots.push(dir, 'endpoints.txt', Buffer.from('be.a 8 0 10.0.0.1:80 10.0.0.3:80\n'))).toMatchObject({ ok: true, commands: 10 });
      // The staying task's slot is set again, and every empty slot is put in maintenance.
      expect(received).toContain('set server be.a/s1 addr 10.0.0.1 port 80');
      expect(received).toContain('set server be.a/s2 addr 10.0.0.3 port 80');
      expect(received.filter((c) => c.endsWith('state maint'))).toHaveLength(6);
      // Confirmed again: the next change sends only itself.
      received.length = 0;
      expect(await slots.push(dir, 'endpoints.txt', Buffer.from('be.a 8 0 10.0.0.1:80\n'))).toMatchObject({ ok: true, commands: 1 });
      expect(received).toEqual(['set server be.a/s2 state maint']);
    } finally {
      server.close();
    }
  });

  it('refuses a malformed line and more members than slots', () => {
    expect(() => wanted('be.a 8 1 not-an-address\n')).toThrow(/malformed/);
    expect(() => wanted('be.a; show 8 1\n')).toThrow(/malformed/);
    expect(() => wanted('be.a 1 0 10.0.0.1:80 10.0.0.2:80\n')).toThrow(/2 members for 1 slots/);
  });
});

describe('server-state file', () => {
  it('is HAProxy version-1 state with filled slots running and empty ones in maintenance, and reads back', () => {
    const table = assignSlots(new Map(), wanted('be.a 8 1 10.0.0.1:8080 [fd00::2]:81\nbe.b 8 0\n')).table;
    const text = serverStateText(table);
    const lines = text.split('\n');
    expect(lines[0]).toBe('1');
    expect(lines[1]).toMatch(/^# be_id be_name srv_id srv_name srv_addr/);
    expect(lines[2]).toBe('1 be.a 1 s1 10.0.0.1 2 4 1 1 0 1 0 1 6 0 0 0 sg-slot.invalid 8080 - 0 0 - - 0');
    expect(lines[3]).toBe('1 be.a 2 s2 fd00::2 2 4 1 1 0 1 0 1 6 0 0 0 sg-slot.invalid 81 - 0 0 - - 0');
    expect(lines[4]).toBe('1 be.a 3 s3 0.0.0.0 0 5 1 1 0 1 0 0 14 0 0 0 sg-slot.invalid 1 - 0 0 - - 0');
    expect(lines.filter((l) => l.includes(' be.b '))).toHaveLength(8);
    expect([...parseServerState(text)].map(([b, s]) => [b, s.slots])).toEqual([...table].map(([b, s]) => [b, s.slots]));
  });
});
