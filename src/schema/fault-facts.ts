// The facts each fault kind records as it strikes (kept apart from the faults themselves, which
// load database and SSH clients, so that `validate` can check `${{ fault.* }}` cheaply).
export const FAULT_FACTS: Readonly<Record<string, readonly string[]>> = {
  'delete-rows': ['time', 'lsn', 'xid', 'rows', 'table'],
};
