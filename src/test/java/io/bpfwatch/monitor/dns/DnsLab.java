package io.bpfwatch.monitor.dns;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A network namespace with a real DNS server (Debian's dnsmasq) on 127.0.0.1:53 and [::1]:53
 * answering fixed records under lab.test (everything else there is NXDOMAIN), and a silent
 * server on 127.0.0.2:53 that reads queries and never answers, and a second dnsmasq on port
 * {@link #FLOOD_PORT}. The namespace has two names:
 * processes run with {@link #run} resolve through 127.0.0.1, with {@link #run6} through ::1
 * (each name has its own /etc/netns/NAME/resolv.conf, which `ip netns exec` mounts).
 * Nothing here touches the host's own resolver or port 53.
 */
final class DnsLab implements AutoCloseable {
    static final String WWW_V4 = "192.0.2.10", WWW_V6 = "2001:db8::10";
    static final String PYTHON = "/usr/bin/python3";
    static final int FLOOD_PORT = 5300;

    final String ns;
    final String ns6;
    final Path dir;
    private final List<Process> servers = new ArrayList<>();

    private DnsLab(Path dir) {
        this.dir = dir;
        String tag = Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffffffL);
        ns = "bwdns" + tag;
        ns6 = "bwdns" + tag + "v6";
    }

    static DnsLab start(Path dir) throws Exception {
        DnsLab lab = new DnsLab(dir);
        try {
            lab.setUp();
        } catch (Exception | Error e) {
            lab.close();
            throw e;
        }
        return lab;
    }

    private void setUp() throws Exception {
        sh("ip", "netns", "add", ns);
        sh("ip", "-n", ns, "link", "set", "lo", "up");
        Path conf = dir.resolve("dnsmasq.conf");
        Files.writeString(conf, String.join("\n",
                "no-resolv", "no-hosts", "no-poll", "interface=lo", "bind-interfaces", "listen-address=127.0.0.1,::1",
                "local=/lab.test/",
                "host-record=www.lab.test," + WWW_V4 + "," + WWW_V6,
                "mx-host=lab.test,mail.lab.test,10",
                "txt-record=txt.lab.test,\"hello\"",
                "cache-size=0", ""), StandardCharsets.UTF_8);
        servers.add(new ProcessBuilder("ip", "netns", "exec", ns, "dnsmasq", "--keep-in-foreground", "--conf-file=" + conf,
                "--pid-file=", "--user=nobody", "--group=nogroup", "--log-facility=" + dir.resolve("dnsmasq.log"))
                .redirectErrorStream(true).redirectOutput(dir.resolve("dnsmasq.out").toFile()).start());
        // the same records on port 5300, for tests that must see no one else's DNS
        servers.add(new ProcessBuilder("ip", "netns", "exec", ns, "dnsmasq", "--keep-in-foreground", "--conf-file=" + conf,
                "--port=" + FLOOD_PORT, "--pid-file=", "--user=nobody", "--group=nogroup", "--log-facility=" + dir.resolve("dnsmasq-flood.log"))
                .redirectErrorStream(true).redirectOutput(dir.resolve("dnsmasq-flood.out").toFile()).start());
        servers.add(new ProcessBuilder("ip", "netns", "exec", ns, PYTHON, "-c",
                "import socket\ns=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.bind(('127.0.0.2',53))\nprint('ready',flush=True)\nwhile True: s.recv(4096)")
                .redirectErrorStream(true).redirectOutput(dir.resolve("silent.out").toFile()).start());
        long dnsmasqPid = servers.get(0).pid();
        sh("ip", "netns", "attach", ns6, Long.toString(dnsmasqPid));
        writeResolvConf(ns, "127.0.0.1");
        writeResolvConf(ns6, "::1");
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            Process p = new ProcessBuilder("ip", "netns", "exec", ns, "dig", "+short", "+tries=1", "+time=1", "@127.0.0.1", "www.lab.test", "A")
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            p.waitFor();
            if (out.equals(WWW_V4) && Files.readString(dir.resolve("silent.out")).contains("ready")) break;
            if (System.nanoTime() > deadline || !servers.get(0).isAlive()) {
                throw new IllegalStateException("dnsmasq did not answer in " + ns + ": " + out + " / "
                        + (Files.exists(dir.resolve("dnsmasq.out")) ? Files.readString(dir.resolve("dnsmasq.out")) : ""));
            }
            Thread.sleep(100);
        }
    }

    private static void writeResolvConf(String name, String server) throws IOException {
        Path d = Path.of("/etc/netns", name);
        Files.createDirectories(d);
        Files.writeString(d.resolve("resolv.conf"), "nameserver " + server + "\noptions attempts:1 timeout:3\n");
    }

    /** Runs a command inside the namespace (resolving through 127.0.0.1); returns it finished. */
    Result run(String... cmd) throws Exception {
        return exec(ns, cmd);
    }

    /** Runs a command inside the namespace, resolving through ::1. */
    Result run6(String... cmd) throws Exception {
        return exec(ns6, cmd);
    }

    /** The test client script, run by Debian's python3 inside the namespace. */
    Result python(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(PYTHON, script().toString()));
        cmd.addAll(List.of(args));
        return run(cmd.toArray(String[]::new));
    }

    /** Starts a command inside the namespace without waiting. */
    Process spawn(String... cmd) throws IOException {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        full.addAll(List.of(cmd));
        return new ProcessBuilder(full).redirectErrorStream(true).start();
    }

    static Path script() throws URISyntaxException {
        return Path.of(DnsLab.class.getResource("/dns/dnsclient.py").toURI());
    }

    record Result(long pid, int exit, String output) {
    }

    private static Result exec(String name, String... cmd) throws Exception {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", name));
        full.addAll(List.of(cmd));
        // `ip netns exec` execs the command: the child's pid is the pid the kernel reports
        Process p = new ProcessBuilder(full).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", cmd) + " did not finish");
        }
        return new Result(p.pid(), p.exitValue(), out);
    }

    private static void sh(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
    }

    @Override
    public void close() throws Exception {
        for (Process p : servers) {
            p.destroy();
            if (!p.waitFor(5, TimeUnit.SECONDS)) p.destroyForcibly();
        }
        for (String name : List.of(ns6, ns)) {
            new ProcessBuilder("ip", "netns", "delete", name).redirectErrorStream(true).start().waitFor();
            Path d = Path.of("/etc/netns", name);
            if (Files.exists(d)) {
                try (Stream<Path> s = Files.walk(d)) {
                    for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
                }
            }
        }
    }
}
