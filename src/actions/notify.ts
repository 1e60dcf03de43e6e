// notify: tell the team — a Slack thread per run, or a generic JSON webhook.
import { Type } from '@sinclair/typebox';
import { Strict, Text, OneOf } from '../schema/common.js';
import { defineAction } from './types.js';

export const notify = defineAction({
  kind: 'notify',
  summary: 'post to the run’s Slack thread (or a JSON webhook)',
  schema: Strict({
    text: Text('message; expressions allowed'),
    channel: Type.Optional(Type.String({ description: 'overrides the environment’s Slack channel' })),
    to: Type.Optional(OneOf(['slack', 'webhook'], { default: 'slack' })),
    url: Type.Optional(Text('webhook URL (to: webhook)')),
    severity: Type.Optional(OneOf(['info', 'warning', 'critical'], { default: 'info' })),
  }),
});
