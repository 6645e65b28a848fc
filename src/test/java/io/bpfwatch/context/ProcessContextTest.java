package io.bpfwatch.context;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bpfwatch.event.Event;
import io.bpfwatch.event.FieldWriter;
import io.bpfwatch.event.JsonLineEncoder;
import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.assertj.core.api.Assertions.assertThat;

class ProcessContextTest {
    private static final class Sample extends Event {
        Sample(ProcessContext c) {
            super(1_700_000_000_000_000_000L, 42, 0, "x", c);
        }

        @Override
        public String monitor() {
            return "sim";
        }

        @Override
        public String event() {
            return "sample";
        }

        @Override
        public void writeFields(FieldWriter w) {
            w.name("n");
            w.number(1);
        }
    }

    @Test
    void hostileNamesStayInsideTheirFieldsAndLinesStayValid() throws Exception {
        ProcessContext c = new ProcessContext(7, "a\"},\"uid\":0,\n", "/tmp/\u0001evil\"exe", "/system.slice/x\\y.service\n{",
                "x\\y.service", null, null);
        String line = JsonLineEncoder.toLine(new Sample(c));
        assertThat(line.indexOf('\n')).isEqualTo(line.length() - 1);
        JsonNode n = new ObjectMapper().readTree(line);
        assertThat(n.get("pcomm").asText()).isEqualTo("a\"},\"uid\":0,\n");
        assertThat(n.get("exe").asText()).isEqualTo("/tmp/\u0001evil\"exe");
        assertThat(n.get("cgroup").asText()).isEqualTo("/system.slice/x\\y.service\n{");
        assertThat(n.get("uid").asInt()).isZero();
        assertThat(n.get("n").asInt()).isEqualTo(1);
        assertThat(n.has("container")).isFalse();
        // the same context again: the same line (its encoding is kept)
        assertThat(JsonLineEncoder.toLine(new Sample(c))).isEqualTo(line);
    }

    @Test
    void anEmptyContextAddsNothing() throws Exception {
        String line = JsonLineEncoder.toLine(new Sample(new ProcessContext(0, null, null, null, null, null, null)));
        assertThat(line).isEqualTo(JsonLineEncoder.toLine(new Sample(null)));
    }
}
