// A staging environment on AWS for the cloud action tests: the cluster endpoint as its one node.
import type { Environment } from '../../src/schema/inventory.js';

export const cloudEnvironment: Environment = {
  label: 'staging',
  primary: 'writer',
  replicas: [],
  postgres: {
    database: 'app',
    user: 'app',
    nodes: { writer: { host: 'orders.cluster-abc.eu-west-1.rds.amazonaws.com', port: 5432 } },
  },
  cloud: { provider: 'aws', region: 'eu-west-1' },
};
