// The iptables chain that holds a partition fault's DROP rules, named once for the fault that adds
// them and for `lab up`, which clears what a drill that died mid-fault left behind.
export const PARTITION_CHAIN = 'DRILLBOOK-PARTITION';
