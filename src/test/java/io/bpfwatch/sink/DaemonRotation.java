package io.bpfwatch.sink;

import java.io.IOException;
import java.nio.file.Path;

/** The daemon's own rotation (shift the archives, rename the file, gzip NAME.log.1 in the background), for tests of readers elsewhere. */
public final class DaemonRotation {
    private final Archives archives = new Archives();

    public void rotate(Path active, int keep, boolean compress) throws IOException {
        archives.rotate(active, keep, compress);
    }

    public void awaitCompression() {
        archives.awaitCompression();
    }
}
