package io.bpfwatch.config;

/** One problem in a config file, printed as {@code FILE:LINE:COL: message} (1-based). */
public record ConfigError(String file, int line, int column, String message) implements Comparable<ConfigError> {
    @Override
    public String toString() {
        return file + ":" + line + ":" + column + ": " + message;
    }

    @Override
    public int compareTo(ConfigError o) {
        int c = Integer.compare(line, o.line);
        return c != 0 ? c : Integer.compare(column, o.column);
    }
}
