package io.bpfwatch.context;

/**
 * What the monitors of one daemon share to describe events: the cgroup paths (one walk of
 * cgroupfs serves every monitor) and the names the dns monitor saw answered.
 */
public record HostContext(CgroupResolver cgroups, DnsNames names) {
    public static HostContext system() {
        return new HostContext(CgroupResolver.system(), new DnsNames(DnsNames.DEFAULT_MAX_ENTRIES));
    }
}
