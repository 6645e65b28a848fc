package io.bpfwatch.context;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * What a cgroup v2 path ("/system.slice/nginx.service") says about the processes in it: their
 * systemd unit, their container and their Kubernetes pod. Pure work on the text. A path that
 * fits no known layout answers null rather than a guess; no input makes these throw or answer "".
 */
public final class CgroupPath {
    /** The unit types that own cgroups; slices only group them. */
    private static final Set<String> UNIT_TYPES = Set.of("service", "scope", "socket", "mount", "swap");
    /** systemd's UNIT_NAME_MAX: a name is shorter. */
    private static final int UNIT_NAME_MAX = 256;
    /** Runtimes that name a container's cgroup PREFIX-ID (".scope" appended under systemd). */
    private static final List<String> CONTAINER_PREFIXES = List.of("docker-", "cri-containerd-", "crio-", "libpod-");
    private static final int MIN_ID = 12;
    private static final int MAX_ID = 64;
    private static final int UID_LENGTH = 36;

    private CgroupPath() {}

    /**
     * The systemd unit, found as systemd's cg_path_get_unit finds it: the first component after
     * the leading slices, if it names a service, scope, socket, mount or swap unit.
     * "/user.slice/user-1000.slice/user@1000.service/app.slice/x.scope" belongs to user@1000.service.
     */
    public static String unit(String path) {
        if (path == null) return null;
        for (String component : components(path)) {
            String name = unescape(component);
            if (name.endsWith(".slice") && validUnitName(name, false)) continue;
            if (!validUnitName(name, true)) return null;
            return UNIT_TYPES.contains(name.substring(name.lastIndexOf('.') + 1)) ? name : null;
        }
        return null;
    }

    /**
     * The container id (12 to 64 lowercase hex digits) of the innermost component that names a
     * container: docker-ID.scope, cri-containerd-ID.scope, crio-ID.scope or libpod-ID.scope
     * (".scope" only under systemd), SLICE:cri-containerd:ID and the like, or a bare ID under
     * docker/ or under a pod of kubepods/. crio-conmon-ID and libpod-conmon-ID hold the
     * runtime's monitor process, not the container: they name nothing.
     */
    public static String container(String path) {
        if (path == null) return null;
        List<String> components = components(path);
        for (int i = components.size() - 1; i >= 0; i--) {
            String id = containerId(components, i);
            if (id != null) return id;
        }
        return null;
    }

    /**
     * The UID of the innermost Kubernetes pod the path is in, with dashes: from
     * kubepods[-QOS]-podUID.slice (systemd driver, also as the SLICE of SLICE:PREFIX:ID) or
     * kubepods/[QOS/]podUID (cgroupfs driver).
     */
    public static String pod(String path) {
        if (path == null) return null;
        List<String> components = components(path);
        for (int i = components.size() - 1; i >= 0; i--) {
            String uid = podUid(components, i);
            if (uid != null) return uid;
        }
        return null;
    }

    /** The non-empty components: "//" and a trailing "/" add nothing, as in the kernel. */
    private static List<String> components(String path) {
        List<String> out = new ArrayList<>();
        int start = 0;
        while (start < path.length()) {
            int end = path.indexOf('/', start);
            if (end < 0) end = path.length();
            if (end > start) out.add(path.substring(start, end));
            start = end + 1;
        }
        return out;
    }

    /** systemd's cg_unescape: a name that would clash with the kernel's files gets a leading '_'. */
    private static String unescape(String component) {
        return component.startsWith("_") ? component.substring(1) : component;
    }

    /** systemd's unit_name_is_valid for plain names, and for instances (a@b.service) if asked. */
    private static boolean validUnitName(String name, boolean instance) {
        if (name.isEmpty() || name.length() >= UNIT_NAME_MAX) return false;
        int dot = name.lastIndexOf('.');
        if (dot <= 0) return false;
        int at = -1;
        for (int i = 0; i < dot; i++) {
            char c = name.charAt(i);
            if (c == '@' && at < 0) at = i;
            if (!unitChar(c)) return false;
        }
        if (at < 0) return true;
        return instance && at > 0 && dot > at + 1;
    }

    private static boolean unitChar(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
                || c == ':' || c == '-' || c == '_' || c == '.' || c == '\\' || c == '@';
    }

    private static String containerId(List<String> components, int i) {
        String c = components.get(i);
        for (String prefix : CONTAINER_PREFIXES) {
            if (c.startsWith(prefix)) {
                int end = c.endsWith(".scope") ? c.length() - ".scope".length() : c.length();
                return hexId(c, prefix.length(), end);
            }
        }
        // runc's cgroupfs driver given a systemd cgroup "SLICE:PREFIX:ID" (kubelet and containerd
        // disagreeing on the driver) makes one directory of it, under the runtime's own cgroup
        int colon = c.lastIndexOf(':');
        int prefixStart = colon > 0 ? c.lastIndexOf(':', colon - 1) + 1 : 0;
        if (prefixStart > 0 && CONTAINER_PREFIXES.contains(c.substring(prefixStart, colon) + "-")) {
            return hexId(c, colon + 1, c.length());
        }
        if (i == 0) return null;
        if (components.get(i - 1).equals("docker") || podUid(components, i - 1) != null) {
            return hexId(c, 0, c.length());
        }
        return null;
    }

    private static String hexId(String s, int from, int to) {
        int n = to - from;
        if (n < MIN_ID || n > MAX_ID) return null;
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) return null;
        }
        return s.substring(from, to);
    }

    private static String podUid(List<String> components, int i) {
        String c = components.get(i);
        if (c.indexOf(':') > 0) c = c.substring(0, c.indexOf(':')); // "SLICE:PREFIX:ID", as above
        if (c.endsWith(".slice")) {
            // systemd reads a dash in a slice name as nesting, so the kubelet writes the UID's
            // dashes as underscores; a prefix before kubepods is a cgroup root (kind's "kubelet")
            String name = c.substring(0, c.length() - ".slice".length());
            int pod = name.lastIndexOf("-pod");
            if (pod < 0 || !kubepodsSlice(name.substring(0, pod))) return null;
            return uid(name, pod + "-pod".length(), '_');
        }
        if (i == 0 || !c.startsWith("pod")) return null;
        String parent = components.get(i - 1);
        boolean underKubepods = parent.equals("kubepods")
                || (parent.equals("burstable") || parent.equals("besteffort")) && i >= 2 && components.get(i - 2).equals("kubepods");
        return underKubepods ? uid(c, "pod".length(), '-') : null;
    }

    private static boolean kubepodsSlice(String name) {
        for (String qos : List.of("kubepods", "kubepods-burstable", "kubepods-besteffort")) {
            if (name.equals(qos) || name.endsWith("-" + qos)) return true;
        }
        return false;
    }

    /** A UUID in lowercase hex groups of 8-4-4-4-12 split by {@code separator}, given with dashes. */
    private static String uid(String s, int from, char separator) {
        if (s.length() - from != UID_LENGTH) return null;
        char[] out = new char[UID_LENGTH];
        for (int i = 0; i < UID_LENGTH; i++) {
            char c = s.charAt(from + i);
            boolean dash = i == 8 || i == 13 || i == 18 || i == 23;
            if (dash ? c != separator : !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) return null;
            out[i] = dash ? '-' : c;
        }
        return new String(out);
    }
}
