// The HAProxy configuration reader behind verify's router-config check: which defaults section a
// backend takes, how default-server and server lines merge, time units, comments.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backendSettings, haproxyTimeMs } from '../../src/connectors/haproxy-config.js';

const CONFIG = `
global
  stats socket /run/haproxy.sock level admin  # retries 9 in a comment is ignored
defaults
  mode tcp
  retries 3
  timeout connect 5s
  default-server inter 2s fall 3
defaults fast
  retries 0
  option redispatch
  timeout connect 500ms
  default-server inter 500ms fastinter 100ms downinter 100ms fall 2 rise 1 observe layer4 error-limit 1 on-error mark-down
backend pg from fast
  default-server on-marked-down shutdown-sessions
  server primary 127.0.0.11:5432 check rise 2
  server spare 127.0.0.12:5432 check no-check backup
defaults
  timeout connect 2s
backend ro
  no option redispatch
  server r1 127.0.0.13:5432 check
`;

test('haproxyTimeMs reads HAProxy time units (milliseconds without one)', () => {
  assert.equal(haproxyTimeMs('1500'), 1500);
  assert.equal(haproxyTimeMs('500ms'), 500);
  assert.equal(haproxyTimeMs('2s'), 2000);
  assert.equal(haproxyTimeMs('1m'), 60_000);
  assert.equal(haproxyTimeMs('fast'), undefined);
});

test('a backend with `from` takes the named defaults; server lines win over default-server lines', () => {
  assert.deepEqual(backendSettings(CONFIG, 'pg'), {
    retries: 0,
    redispatch: true,
    timeoutConnectMs: 500,
    servers: {
      primary: {
        check: true,
        interMs: 500,
        fastinterMs: 100,
        downinterMs: 100,
        fall: 2,
        rise: 2,
        observe: 'layer4',
        errorLimit: 1,
        onError: 'mark-down',
        onMarkedDown: 'shutdown-sessions',
      },
      spare: {
        check: false,
        interMs: 500,
        fastinterMs: 100,
        downinterMs: 100,
        fall: 2,
        rise: 1,
        observe: 'layer4',
        errorLimit: 1,
        onError: 'mark-down',
        onMarkedDown: 'shutdown-sessions',
      },
    },
  });
});

test('a backend without `from` takes the last defaults section before it, and unset stays unset', () => {
  assert.deepEqual(backendSettings(CONFIG, 'ro'), {
    redispatch: false,
    timeoutConnectMs: 2000,
    servers: { r1: { check: true } },
  });
  assert.equal(backendSettings(CONFIG, 'missing'), undefined);
});
