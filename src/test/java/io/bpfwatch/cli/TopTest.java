package io.bpfwatch.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bpfwatch.monitor.MonitorState;
import io.bpfwatch.supervise.MonitorStatus;
import io.bpfwatch.top.RecentActivity;
import io.bpfwatch.top.TopJson;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TopTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static MonitorStatus status(String name, MonitorState state, long lost, RecentActivity recent, String error) {
        return new MonitorStatus(name, name, state, Instant.EPOCH, 1, "tracepoint", List.of(), error, null, null, 42, null, null, 0, lost, recent);
    }

    @Test
    void optionsAreCheckedAndDefaultsSensible() throws Exception {
        Top.Options o = Top.parse(List.of());
        assertThat(o.interval()).isEqualTo(Duration.ofSeconds(2));
        assertThat(o.entries()).isEqualTo(5);
        assertThat(o.once()).isFalse();
        assertThat(Top.parse(List.of("--interval=5s", "-n", "3", "--once", "--url", "http://[::1]:9476/")).url()).isEqualTo("http://[::1]:9476/");
        assertThatThrownBy(() -> Top.parse(List.of("--interval", "500ms"))).hasMessageContaining("whole seconds from 1s to 10s");
        assertThatThrownBy(() -> Top.parse(List.of("--interval", "1m"))).hasMessageContaining("not '1m'");
        assertThatThrownBy(() -> Top.parse(List.of("-n", "0"))).hasMessageContaining("from 1 to 32");
        assertThatThrownBy(() -> Top.parse(List.of("tcp"))).hasMessageContaining("unknown option 'tcp'");
    }

    @Test
    void aFrameShowsEveryMonitorItsLossesSinceTheLastFrameAndTheRankingsWithHostileNamesMadeVisible() throws Exception {
        long now = 1_780_000_000_500L;
        RecentActivity tcp = new RecentActivity();
        Instant at = Instant.ofEpochMilli(now - 400);
        tcp.count(new io.bpfwatch.event.FieldsEvent(at.getEpochSecond() * 1_000_000_000L + at.getNano(), "tcp", "conn\u001b[2Ject", Map.of()));
        List<MonitorStatus> ms = List.of(status("tcp", MonitorState.RUNNING, 7, tcp, null),
                status("zfs", MonitorState.UNAVAILABLE, 0, new RecentActivity(), "no /dev/zfs"));
        JsonNode doc = JSON.readTree(TopJson.write(ms, 2, 5, now));
        assertThat(doc.path("monitors").get(0).path("window_events").asLong()).isEqualTo(1);
        assertThat(doc.path("monitors").get(0).path("window_seconds").asDouble()).isEqualTo(2.5);
        assertThat(doc.path("monitors").get(0).path("events_per_second").asDouble()).isEqualTo(0.4);
        assertThat(doc.path("monitors").get(0).path("top").path("events").path("entries").get(0).path("count").asLong()).isEqualTo(1);

        Map<String, Long> lost = new HashMap<>();
        String first = Top.frame(doc, "http://127.0.0.1:9476", ZoneOffset.UTC, 0, lost);
        assertThat(first).contains("last 2 s")
                .containsPattern("tcp +running +0\\.4 +42 +7 +1")
                .containsPattern("zfs +unavailable +- +42 +0 +1  no /dev/zfs")
                .contains("tcp events").contains("conn\\x1b[2Ject").doesNotContain("\u001b");
        JsonNode later = JSON.readTree(TopJson.write(List.of(status("tcp", MonitorState.RUNNING, 10, tcp, null)), 2, 5, now));
        assertThat(Top.frame(later, "http://127.0.0.1:9476", ZoneOffset.UTC, 0, lost)).containsPattern("tcp +running +0\\.4 +42 +10 \\+3 ");
        // a narrow terminal: no line is wider
        assertThat(Top.frame(later, "http://127.0.0.1:9476", ZoneOffset.UTC, 30, lost).lines()).allMatch(l -> l.length() <= 30);
    }

    @Test
    void onceWithoutADaemonSaysWhyAndFails() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Top.Source nobody = new Top.Source("http://127.0.0.1:1", null);
        int status = Top.run(Top.parse(List.of("--once")), nobody, new PrintStream(out, true, StandardCharsets.UTF_8), false, null,
                ZoneOffset.UTC, () -> false);
        assertThat(status).isEqualTo(1);
        assertThat(out.toString(StandardCharsets.UTF_8)).isEmpty();
    }

    @Test
    void withoutADaemonTheViewSaysSoAndKeepsTrying() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Top.Source nobody = new Top.Source("http://127.0.0.1:1", null);
        int[] looks = {0};
        int status = Top.run(Top.parse(List.of("--interval", "1s")), nobody, new PrintStream(out, true, StandardCharsets.UTF_8), false, null,
                ZoneOffset.UTC, () -> out.size() > 0 && looks[0]++ > 0);
        assertThat(status).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("cannot reach http://127.0.0.1:1").contains("trying again every 1 s");
    }
}
