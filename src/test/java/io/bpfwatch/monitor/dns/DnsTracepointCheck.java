package io.bpfwatch.monitor.dns;

import io.bpfwatch.testkit.RequiresBpf;

/**
 * DnsMonitorTest again with {@code attach: tracepoint}, for kernels where auto chooses fentry:
 * the system-call tracepoint programs must keep working (and passing the verifier) there too.
 * Only {@code make test-vm} runs it; where fentry is missing, DnsMonitorTest already runs them.
 */
@RequiresBpf
class DnsTracepointCheck extends DnsMonitorTest {
    @Override
    String attach() {
        return "tracepoint";
    }
}
