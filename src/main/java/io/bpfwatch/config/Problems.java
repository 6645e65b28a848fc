package io.bpfwatch.config;

import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.nodes.Node;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Collects every problem of one file, each at the position of the node it is about. */
public final class Problems {
    private final String file;
    private final String[] lines;
    private final List<ConfigError> errors = new ArrayList<>();

    public Problems(String file) {
        this(file, "");
    }

    /** With the file's text, for readers that place problems inside a value (a program's line). */
    public Problems(String file, String text) {
        this.file = file;
        this.lines = text.split("\n", -1);
    }

    /** Line {@code zeroBased} of the file's text, or null past its end. */
    public String line(int zeroBased) {
        return zeroBased >= 0 && zeroBased < lines.length ? lines[zeroBased] : null;
    }

    public String file() {
        return file;
    }

    /** At the node's start; at the file's start when there is no node (a section that is absent). */
    public void at(Node node, String message) {
        at(node == null ? null : node.getStartMark(), message);
    }

    public void at(Mark mark, String message) {
        if (mark == null) {
            errors.add(new ConfigError(file, 1, 1, message));
        } else {
            errors.add(new ConfigError(file, mark.getLine() + 1, mark.getColumn() + 1, message));
        }
    }

    public void at(int line, int column, String message) {
        errors.add(new ConfigError(file, line, column, message));
    }

    public boolean any() {
        return !errors.isEmpty();
    }

    public List<ConfigError> sorted() {
        List<ConfigError> out = new ArrayList<>(errors);
        Collections.sort(out);
        return out;
    }
}
