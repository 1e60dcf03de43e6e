// The fields of verify's router-config check (the check itself: ./router-config.ts).
import { Type } from '@sinclair/typebox';
import { Strict, Target, Text } from '../schema/common.js';
import { Ms } from './contract.js';

export const RouterConfigCheck = Strict({
  check: Type.Literal('router-config', {
    description:
      'an HAProxy router lets new clients fail fast on a dead or fenced server (warns about settings that make them hang)',
  }),
  router: Target('router', 'the router whose runtime settings are read'),
  backend: Type.Optional(Type.String({ description: 'defaults to the router’s backend' })),
  config: Type.Optional(
    Text(
      'its configuration file, for the settings the runtime API does not show (default: the -f files of the running HAProxy)',
    ),
  ),
  strict: Type.Optional(
    Type.Boolean({ description: 'warnings fail the step (default: they are only reported)' }),
  ),
});

export const RouterConfigCheckOutputs = Strict({
  router: Type.String({ description: 'router-config: the router read' }),
  backend: Type.String(),
  configFiles: Type.Array(Type.String(), {
    description: 'files read for the settings the runtime API does not show (empty: none could be read)',
  }),
  retries: Type.Optional(Type.Integer({ description: 'absent: not set (HAProxy default 3) or unknown' })),
  redispatch: Type.Optional(Type.Boolean()),
  timeoutConnectMs: Type.Optional(Ms('absent: not set (unlimited) or unknown')),
  servers: Type.Array(
    Strict({
      server: Type.String(),
      addr: Type.String(),
      port: Type.Integer(),
      check: Type.Boolean({ description: 'health-checked (runtime API)' }),
      rise: Type.Integer({ description: 'runtime API' }),
      fall: Type.Integer({ description: 'runtime API' }),
      interMs: Type.Optional(Ms()),
      fastinterMs: Type.Optional(Ms()),
      downinterMs: Type.Optional(Ms()),
      observe: Type.Optional(Type.String()),
      errorLimit: Type.Optional(Type.Integer()),
      onError: Type.Optional(Type.String()),
      onMarkedDown: Type.Optional(Type.String()),
    }),
  ),
  warnings: Type.Array(Type.String(), { description: 'settings that make new clients hang' }),
});
