package io.bpfwatch.cli;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ArgsTest {
    @Test
    void commandsAndOptions() throws Exception {
        assertThat(Args.parse(new String[] {"run"})).isEqualTo(new Args("run", null, null));
        assertThat(Args.parse(new String[] {"run", "--config", "/x.yaml", "--logs-dir", "var/log"}))
                .isEqualTo(new Args("run", "/x.yaml", Path.of("var/log")));
        assertThat(Args.parse(new String[] {"check", "--config=/y.yaml"})).isEqualTo(new Args("check", "/y.yaml", null));
        assertThat(Args.parse(new String[] {"version"}).command()).isEqualTo("version");
        assertThat(Args.parse(new String[] {"--help"}).command()).isEqualTo("help");
    }

    @Test
    void mistakesAreUsageErrors() {
        assertThatThrownBy(() -> Args.parse(new String[] {})).hasMessage("no command given");
        assertThatThrownBy(() -> Args.parse(new String[] {"start"})).hasMessage("unknown command 'start'");
        assertThatThrownBy(() -> Args.parse(new String[] {"run", "--config"})).hasMessage("--config needs a file");
        assertThatThrownBy(() -> Args.parse(new String[] {"version", "--config", "x"})).hasMessage("version takes no --config");
        assertThatThrownBy(() -> Args.parse(new String[] {"check", "--logs-dir", "x"})).hasMessage("--logs-dir is for run");
        assertThatThrownBy(() -> Args.parse(new String[] {"run", "--verbose"})).hasMessage("unknown option '--verbose' for run");
    }
}
