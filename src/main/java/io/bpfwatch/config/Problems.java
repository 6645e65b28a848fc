package io.bpfwatch.config;

import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.nodes.Node;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Collects every problem of one file, each at the position of the node it is about. */
public final class Problems {
    private final String file;
    private final List<ConfigError> errors = new ArrayList<>();

    public Problems(String file) {
        this.file = file;
    }

    public String file() {
        return file;
    }

    public void at(Node node, String message) {
        at(node.getStartMark(), message);
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
