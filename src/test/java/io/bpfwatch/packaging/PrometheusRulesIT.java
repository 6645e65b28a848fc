package io.bpfwatch.packaging;

import io.bpfwatch.testkit.Cmd;
import org.junit.jupiter.api.Test;

import org.yaml.snakeyaml.Yaml;

import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/** The alerting rules through Prometheus's own promtool: they load, and each fires when it should. */
class PrometheusRulesIT {
    @Test
    void rulesPassPromtoolCheck() {
        Cmd.Result r = Cmd.ok(Packaging.promtool().toString(), "check", "rules", Packaging.file("packaging/prometheus/bpfwatch-alerts.yml").toString());
        assertThat(r.out()).contains("SUCCESS: 6 rules found");
    }

    @Test
    void eachAlertFiresOnItsSeriesAndOnlyThen() {
        Cmd.Result r = Cmd.run(Duration.ofSeconds(60), Packaging.file("packaging/prometheus"), null,
                List.of(Packaging.promtool().toString(), "test", "rules", "bpfwatch-alerts.test.yml"));
        assertThat(r.exit()).as(r.describe()).isZero();
        assertThat(r.out()).contains("SUCCESS");
    }

    @Test
    @SuppressWarnings("unchecked")
    void everyAlertHasAUnitTestAndTheAlertsTheIssueNames() throws Exception {
        Map<String, Object> rules = new Yaml().load(Files.readString(Packaging.file("packaging/prometheus/bpfwatch-alerts.yml")));
        Set<String> alerts = new TreeSet<>();
        for (Map<String, Object> g : (List<Map<String, Object>>) rules.get("groups")) {
            for (Map<String, Object> r : (List<Map<String, Object>>) g.get("rules")) {
                alerts.add((String) r.get("alert"));
                assertThat((Map<String, Object>) r.get("labels")).containsKey("severity");
                assertThat((Map<String, Object>) r.get("annotations")).containsKeys("summary", "description");
            }
        }
        Map<String, Object> tests = new Yaml().load(Files.readString(Packaging.file("packaging/prometheus/bpfwatch-alerts.test.yml")));
        Set<String> tested = new TreeSet<>();
        for (Map<String, Object> t : (List<Map<String, Object>>) tests.get("tests")) {
            for (Map<String, Object> a : (List<Map<String, Object>>) t.get("alert_rule_test")) {
                if (!((List<?>) a.get("exp_alerts")).isEmpty()) tested.add((String) a.get("alertname"));
            }
        }
        assertThat(tested).isEqualTo(alerts);
        // monitor down, restarts rising, events lost, TCP alerts
        assertThat(alerts).contains("BpfwatchDown", "BpfwatchMonitorDown", "BpfwatchMonitorRestarting", "BpfwatchEventsLost", "BpfwatchTcpAlert");
    }
}
