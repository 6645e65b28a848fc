package io.bpfwatch.context;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Random;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

class CgroupPathTest {
    private static final String ID = "9f2c6e1d4b8a7c3e5f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a";
    private static final String OUTER = "1e0d5c4b3a29180706f5e4d3c2b1a09f8e7d6c5b4a3928170615f4e3d2c1b0a9";
    private static final String POD = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
    private static final String POD_ = POD.replace('-', '_');
    private static final String BURSTABLE = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + POD_ + ".slice";
    private static final String BESTEFFORT = "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + POD_ + ".slice";

    /** Layout, path, then the unit, container and pod it names (null: none). */
    static Stream<Arguments> layouts() {
        return Stream.of(
                arguments("the root", "/", null, null, null),
                arguments("systemd's own scope", "/init.scope", "init.scope", null, null),
                arguments("a system service", "/system.slice/nginx.service", "nginx.service", null, null),
                arguments("a service's own sub-cgroups", "/system.slice/nginx.service/sub/x", "nginx.service", null, null),
                arguments("doubled slashes", "//system.slice//nginx.service/", "nginx.service", null, null),
                arguments("a slice alone", "/system.slice", null, null, null),
                arguments("a slice in a slice", "/system.slice/system-getty.slice/getty@tty1.service", "getty@tty1.service", null, null),
                arguments("a socket-activated instance", "/system.slice/system-sshd.slice/sshd@3-192.0.2.1:22-198.51.100.7:52814.service",
                        "sshd@3-192.0.2.1:22-198.51.100.7:52814.service", null, null),
                arguments("a mount unit", "/system.slice/mnt-data.mount", "mnt-data.mount", null, null),
                arguments("a swap unit", "/system.slice/dev-zram0.swap", "dev-zram0.swap", null, null),
                arguments("a socket unit", "/system.slice/dbus.socket", "dbus.socket", null, null),
                arguments("a name systemd escaped", "/system.slice/_cpu.service", "cpu.service", null, null),
                arguments("a target owns no cgroup", "/system.slice/multi-user.target", null, null, null),
                arguments("a user session", "/user.slice/user-1000.slice/session-3.scope", "session-3.scope", null, null),
                arguments("a user's manager and its apps", "/user.slice/user-1000.slice/user@1000.service/app.slice/foo.scope",
                        "user@1000.service", null, null),
                arguments("an nspawn machine", "/machine.slice/machine-foo.scope/payload/system.slice/x.service", "machine-foo.scope", null, null),
                arguments("not systemd's", "/docker/abc", null, null, null),
                arguments("docker, systemd driver", "/system.slice/docker-" + ID + ".scope", "docker-" + ID + ".scope", ID, null),
                arguments("docker, cgroupfs driver", "/docker/" + ID, null, ID, null),
                arguments("docker in docker", "/docker/" + OUTER + "/docker/" + ID, null, ID, null),
                arguments("systemd in a docker container", "/docker/" + ID + "/system.slice/cron.service", null, ID, null),
                arguments("containerd, kubepods systemd driver", BURSTABLE + "/cri-containerd-" + ID + ".scope",
                        "cri-containerd-" + ID + ".scope", ID, POD),
                arguments("a guaranteed pod, systemd driver", "/kubepods.slice/kubepods-pod" + POD_ + ".slice/cri-containerd-" + ID + ".scope",
                        "cri-containerd-" + ID + ".scope", ID, POD),
                arguments("a pod's own slice", BESTEFFORT, null, null, POD),
                arguments("containerd, kubepods cgroupfs driver", "/kubepods/burstable/pod" + POD + "/" + ID, null, ID, POD),
                arguments("a guaranteed pod, cgroupfs driver", "/kubepods/pod" + POD + "/" + ID, null, ID, POD),
                arguments("a best-effort pod, cgroupfs driver", "/kubepods/besteffort/pod" + POD + "/" + ID, null, ID, POD),
                arguments("cri-o, systemd driver", BESTEFFORT + "/crio-" + ID + ".scope", "crio-" + ID + ".scope", ID, POD),
                arguments("cri-o's container sub-cgroup", BESTEFFORT + "/crio-" + ID + ".scope/container", "crio-" + ID + ".scope", ID, POD),
                arguments("cri-o's conmon", BESTEFFORT + "/crio-conmon-" + ID + ".scope", "crio-conmon-" + ID + ".scope", null, POD),
                arguments("cri-o, cgroupfs driver", "/kubepods/burstable/pod" + POD + "/crio-" + ID, null, ID, POD),
                arguments("podman, rootful", "/machine.slice/libpod-" + ID + ".scope/container", "libpod-" + ID + ".scope", ID, null),
                arguments("podman's conmon", "/machine.slice/libpod-conmon-" + ID + ".scope", "libpod-conmon-" + ID + ".scope", null, null),
                arguments("podman, rootless", "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + ID + ".scope",
                        "user@1000.service", ID, null),
                arguments("podman, cgroupfs driver", "/libpod_parent/libpod-" + ID, null, ID, null),
                arguments("kubernetes in docker (kind)", "/system.slice/docker-" + OUTER + ".scope/kubelet.slice/kubelet-kubepods.slice"
                                + "/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod" + POD_ + ".slice/cri-containerd-" + ID + ".scope",
                        "docker-" + OUTER + ".scope", ID, POD),
                arguments("containerd's cgroupfs driver given kubelet's systemd cgroup",
                        "/system.slice/containerd.service/kubepods-burstable-pod" + POD_ + ".slice:cri-containerd:" + ID,
                        "containerd.service", ID, POD),
                arguments("a short docker id", "/docker/" + ID.substring(0, 12), null, ID.substring(0, 12), null));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("layouts")
    void eachRuntimesLayoutNamesItsUnitContainerAndPod(String layout, String path, String unit, String container, String pod) {
        assertThat(CgroupPath.unit(path)).as("unit").isEqualTo(unit);
        assertThat(CgroupPath.container(path)).as("container").isEqualTo(container);
        assertThat(CgroupPath.pod(path)).as("pod").isEqualTo(pod);
    }

    /** Paths that look nearly right; each names nothing. */
    static Stream<Arguments> nearMisses() {
        String a300 = "a".repeat(300);
        return Stream.of(
                arguments("nothing", null),
                arguments("empty", ""),
                arguments("slashes only", "///"),
                arguments("a newline after the unit", "/system.slice/nginx.service\n"),
                arguments("a newline in the unit", "/system.slice/ngi\nnx.service"),
                arguments("an undecodable byte", "/system.slice/\uFFFD.service"),
                arguments("a NUL", "/system.slice/a\0.service"),
                arguments("a unit name too long for systemd", "/system.slice/" + "a".repeat(248) + ".service"),
                arguments("a very long component", "/" + a300 + "/docker-" + a300 + ".scope/" + a300),
                arguments("no name before the type", "/.service"),
                arguments("an instance without a template name", "/@x.service"),
                arguments("a template", "/getty@.service"),
                arguments("an unknown unit type", "/system.slice/foo.bar"),
                arguments("an instance slice", "/foo@bar.slice"),
                arguments("an id too long", "/docker/" + ID + "0"),
                arguments("an id in capitals", "/docker/" + ID.toUpperCase()),
                arguments("an id too short", "/docker/" + ID.substring(0, 11)),
                arguments("an id with a tail", "/docker/" + ID + ".bak"),
                arguments("a scope with a tail", "/docker-" + ID + ".scope.bak"),
                arguments("a bare id outside docker and pods", "/" + ID),
                arguments("a pod UID that is no UUID", "/kubepods/burstable/pod" + POD.substring(1) + "x"),
                arguments("a pod outside kubepods", "/burstable/pod" + POD),
                arguments("a systemd pod slice with dashes", "/kubepods.slice/kubepods-burstable-pod" + POD + ".slice"),
                arguments("a pod slice of another qos", "/kubepods.slice/kubepods-gold-pod" + POD_ + ".slice"),
                arguments("an unknown runtime's SLICE:PREFIX:ID", "/kubelet:runsc:" + ID),
                arguments("a bare PREFIX:ID", "/cri-containerd:" + ID),
                arguments("a pod slice outside kubepods", "/notkubepods-pod" + POD_ + ".slice"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("nearMisses")
    void nearMissesNameNothing(String what, String path) {
        assertThat(CgroupPath.unit(path)).as("unit").isNull();
        assertThat(CgroupPath.container(path)).as("container").isNull();
        assertThat(CgroupPath.pod(path)).as("pod").isNull();
    }

    @Test
    void unitNamesFollowSystemdsRules() {
        String longest = "a".repeat(255 - ".service".length()) + ".service";
        assertThat(CgroupPath.unit("/system.slice/" + longest)).isEqualTo(longest);
        assertThat(CgroupPath.unit("/system.slice/a" + longest)).isNull();
        assertThat(CgroupPath.unit("/system.slice/x\\x2dy.service")).isEqualTo("x\\x2dy.service");
        assertThat(CgroupPath.unit("/system.slice/a@b@c.service")).isEqualTo("a@b@c.service");
        // a slice that is not a valid plain name is not skipped, and then is no unit either
        assertThat(CgroupPath.unit("/a@b.slice/x.service")).isNull();
        assertThat(CgroupPath.unit("/_.slice/x.service")).isNull();
    }

    @Test
    void anyTextGivesNullOrAWellFormedAnswer() {
        String[] pieces = {"/", "/", "-", "_", ".", "@", "\n", "\uFFFD", "\0", "docker", "docker-", "crio-", "libpod-",
                "cri-containerd-", "conmon-", "kubepods", "burstable", "pod", ".slice", ".scope", ".service", "x",
                ID.substring(0, 12), ID, POD, POD_, "\uD800", "é"};
        Random random = new Random(20240611);
        for (int n = 0; n < 20_000; n++) {
            StringBuilder path = new StringBuilder();
            for (int k = random.nextInt(12); k >= 0; k--) path.append(pieces[random.nextInt(pieces.length)]);
            String p = path.toString();
            String unit = CgroupPath.unit(p);
            String container = CgroupPath.container(p);
            String pod = CgroupPath.pod(p);
            if (unit != null) assertThat(unit).as(p).matches("[A-Za-z0-9:_.\\\\@-]{1,255}\\.(service|scope|socket|mount|swap)");
            if (container != null) assertThat(container).as(p).matches("[0-9a-f]{12,64}");
            if (pod != null) assertThat(pod).as(p).matches("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
        }
    }

    @Test
    void aHugePathIsWalkedNotChoked() {
        String huge = "/system.slice/x.service" + "/a".repeat(500_000) + "/docker/" + ID;
        assertThat(CgroupPath.unit(huge)).isEqualTo("x.service");
        assertThat(CgroupPath.container(huge)).isEqualTo(ID);
        assertThat(CgroupPath.pod(huge)).isNull();
    }
}
