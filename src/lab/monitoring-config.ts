// lab up --monitoring: the configuration files of Prometheus, its alert rule, Alertmanager and the
// exporters' extra query, written into <lab>/monitoring. Fast on purpose (scrape and evaluation
// every second, `for: 2s`, no group wait): a drill measures detection, and detection is this chain.
import { stringify } from 'yaml';
import type { LabConfig, MonitoringConfig } from './config.js';

/** The lab's serve, where Alertmanager posts and a drill with `trigger: alert` looks. */
export const serveUrl = (config: LabConfig) => `http://${config.serviceHost}:${config.monitoring?.servePort}`;

export const PRIMARY_DOWN_ALERT = 'PostgresPrimaryDown';

/** Each node's exporter adds this metric: 1 on a standby, 0 on a primary, absent when down. */
export const RECOVERY_METRIC = 'pg_recovery_is_replica';

/**
 * Fires while no node of an environment is a primary: the exporters still answer (count of
 * pg_up), yet none reports pg_is_in_recovery() = false. A lab at rest has its primary, so it stays
 * quiet; it resolves as soon as the promoted replica reports, whichever node that is, so it needs
 * no knowledge of which node the inventory calls primary.
 */
export const PRIMARY_DOWN_EXPR = `count by (env) (pg_up) unless on (env) (${RECOVERY_METRIC} == 0)`;

export const EXPORTER_QUERIES = stringify({
  pg_recovery: {
    query: 'SELECT CASE WHEN pg_is_in_recovery() THEN 1 ELSE 0 END AS is_replica',
    master: true,
    metrics: [{ is_replica: { usage: 'GAUGE', description: '1 on a standby, 0 on a primary' } }],
  },
});

export function prometheusConfig(
  config: LabConfig,
  m: MonitoringConfig,
  environment: string,
  rulesFile: string,
): string {
  return stringify({
    // The exporter answers in milliseconds, but takes a whole second when its PostgreSQL is gone:
    // the timeout, not its answer, tells Prometheus first that the node is down.
    global: { scrape_interval: '1s', scrape_timeout: '500ms', evaluation_interval: '1s' },
    rule_files: [rulesFile],
    alerting: {
      alertmanagers: [{ static_configs: [{ targets: [`${config.serviceHost}:${m.alertmanagerPort}`] }] }],
    },
    scrape_configs: [
      {
        job_name: 'postgres',
        static_configs: config.nodes.map((n) => ({
          targets: [`${n.host}:${m.exporterPort}`],
          labels: { env: environment, node: n.name },
        })),
      },
    ],
  });
}

export const PROMETHEUS_RULES = stringify({
  groups: [
    {
      name: 'drillbook-lab',
      interval: '1s',
      rules: [
        {
          alert: PRIMARY_DOWN_ALERT,
          expr: PRIMARY_DOWN_EXPR,
          for: '2s',
          labels: { severity: 'critical' },
          annotations: {
            summary: 'no node of {{ $labels.env }} accepts writes (none reports pg_is_in_recovery() = false)',
          },
        },
      ],
    },
  ],
});

/** Every alert goes to the lab's serve at once; the bearer token is read from the lab's secret file. */
export function alertmanagerConfig(hookUrl: string, tokenFile: string): string {
  return stringify({
    route: {
      receiver: 'drillbook',
      group_by: ['alertname', 'env'],
      group_wait: '0s',
      group_interval: '1s',
      repeat_interval: '1h',
    },
    receivers: [
      {
        name: 'drillbook',
        webhook_configs: [
          {
            url: hookUrl,
            send_resolved: true,
            http_config: { authorization: { type: 'Bearer', credentials_file: tokenFile } },
          },
        ],
      },
    ],
  });
}
