package io.bpfwatch.testkit;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A separate process that makes TCP connections, so tests know exactly which pid made them.
 * {@code Connector connect HOST:PORT...} connects to each once; {@code Connector storm SECONDS
 * PORT OUTFILE} connects to refused loopback ports (v4 and v6 alternately) for SECONDS and
 * writes how many attempts it made to OUTFILE.
 */
public final class Connector {
    public static void main(String[] args) throws Exception {
        if (args[0].equals("connect")) {
            for (int i = 1; i < args.length; i++) {
                String a = args[i];
                int colon = a.lastIndexOf(':');
                String host = a.substring(0, colon).replace("[", "").replace("]", "");
                int port = Integer.parseInt(a.substring(colon + 1));
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(host, port), 2000);
                } catch (IOException expected) {
                    // refused or unanswered: still an attempt
                }
            }
            return;
        }
        if (args[0].equals("storm")) {
            long until = System.nanoTime() + Long.parseLong(args[1]) * 1_000_000_000L;
            int port = Integer.parseInt(args[2]);
            List<InetSocketAddress> targets = new ArrayList<>();
            targets.add(new InetSocketAddress("127.0.0.1", port));
            targets.add(new InetSocketAddress("::1", port));
            long n = 0;
            while (System.nanoTime() < until) {
                for (int i = 0; i < 100; i++) {
                    try (Socket s = new Socket()) {
                        n++;
                        s.connect(targets.get((int) (n & 1)), 1000);
                    } catch (IOException expected) {
                        // refused
                    }
                }
            }
            Files.writeString(Path.of(args[3]), Long.toString(n));
            return;
        }
        throw new IllegalArgumentException("connect HOST:PORT... | storm SECONDS PORT OUTFILE");
    }

    /** Runs this class in a child JVM; returns the finished process. */
    public static Process run(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-XX:TieredStopAtLevel=1");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Connector.class.getName());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).inheritIO().start();
        if (p.waitFor() != 0) throw new AssertionError("connector " + String.join(" ", args) + " exited " + p.exitValue());
        return p;
    }
}
