package io.bpfwatch.cli;

import com.fasterxml.jackson.databind.JsonNode;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * One event as a person reads it at a terminal: local time, monitor, pid, comm (and the unit
 * or container when known), then the event's own fields in an order fixed per monitor (tcp:
 * "ALERT -> 192.0.2.10:4444 (c2.example.net) port:4444"; dns: "www.example.com A -> NOERROR
 * 1.2ms"; zfs: "DESTROY tank/home@monday ok"); a custom monitor's fields as key=value.
 * Colour only when asked (a terminal, NO_COLOR unset).
 */
final class ReadableLine {
    private static final String RESET = "\u001b[0m", BOLD_RED = "\u001b[1;31m", YELLOW = "\u001b[33m", DIM = "\u001b[2m",
            CYAN = "\u001b[36m", GREEN = "\u001b[32m", MAGENTA = "\u001b[35m", BLUE = "\u001b[34m";
    /** Fields every event has, and context, shown in the first columns or not at all. */
    private static final Set<String> COMMON = Set.of("time", "monitor", "event", "pid", "uid", "comm", "ppid", "pcomm", "exe",
            "cgroup", "unit", "container", "pod");
    private static final Set<String> NONE = Set.of();

    private final boolean color;
    private final ZoneId zone;
    private final LocalDate today;

    ReadableLine(boolean color, ZoneId zone) {
        this.color = color;
        this.zone = zone;
        this.today = LocalDate.now(zone);
    }

    String format(JsonNode e) {
        StringBuilder sb = new StringBuilder(160);
        String monitor = text(e, "monitor");
        sb.append(paint(DIM, time(e))).append(' ');
        sb.append(paint(monitorColor(monitor), pad(monitor, 9))).append(' ');
        if (e.has("pid")) {
            sb.append(padLeft(text(e, "pid"), 7)).append(' ').append(pad(text(e, "comm"), 15));
        } else {
            sb.append(pad("", 23));
        }
        String owner = e.has("container") ? "ctr " + shortId(text(e, "container")) : text(e, "unit");
        if (!owner.isEmpty()) sb.append(' ').append(paint(DIM, "[" + owner + "]"));
        sb.append("  ");
        switch (monitor) {
            case "tcp" -> tcp(e, sb);
            case "dns" -> dns(e, sb);
            case "zfs" -> zfs(e, sb);
            default -> {
                sb.append(text(e, "event"));
                rest(e, sb, NONE);
            }
        }
        return sb.toString();
    }

    private void tcp(JsonNode e, StringBuilder sb) {
        boolean alert = e.path("alert").asBoolean(false);
        if (alert) sb.append(paint(BOLD_RED, "ALERT")).append(' ');
        sb.append("-> ").append(hostPort(text(e, "daddr"), text(e, "dport")));
        if (e.has("dns")) sb.append(" (").append(text(e, "dns")).append(')');
        if (alert) sb.append(' ').append(paint(BOLD_RED, join(e.get("rules"))));
        rest(e, sb, Set.of("family", "saddr", "sport", "daddr", "dport", "dns", "alert", "rules"));
    }

    private void dns(JsonNode e, StringBuilder sb) {
        String event = text(e, "event");
        if (e.has("qname")) sb.append(text(e, "qname")).append(' ').append(text(e, "qtype"));
        else sb.append(event);
        sb.append(" @").append(hostPort(text(e, "server"), text(e, "port")));
        if (e.has("rcode")) {
            String rcode = text(e, "rcode");
            sb.append(" -> ").append(rcode.equals("NOERROR") ? rcode : paint(YELLOW, rcode));
            if (e.has("latency_ms")) sb.append(' ').append(text(e, "latency_ms")).append("ms");
            if (e.has("addresses") && e.get("addresses").size() > 0) sb.append(' ').append(join(e.get("addresses")));
        } else if (!event.equals("answered") && e.has("qname")) {
            sb.append(" -> ").append(paint(YELLOW, event));
        }
        rest(e, sb, Set.of("qname", "qtype", "server", "port", "rcode", "latency_ms", "addresses", "transport", "id", "answers", "truncated"));
    }

    private void zfs(JsonNode e, StringBuilder sb) {
        sb.append(text(e, "action").toUpperCase(java.util.Locale.ROOT)).append(' ');
        String names = e.has("snapshots") && e.get("snapshots").size() > 0 ? join(e.get("snapshots"))
                : e.has("dataset") ? text(e, "dataset") : text(e, "pool");
        sb.append(names);
        if (e.has("new_name")) sb.append(" -> ").append(text(e, "new_name"));
        String result = text(e, "result");
        sb.append(' ').append(result.equals("ok") ? paint(GREEN, result) : paint(YELLOW, result));
        rest(e, sb, Set.of("action", "pool", "dataset", "snapshots", "new_name", "result", "duration_ms", "truncated", "recursive"));
    }

    /** The fields not shown yet, as key=value. */
    private void rest(JsonNode e, StringBuilder sb, Set<String> shown) {
        for (Iterator<Map.Entry<String, JsonNode>> it = e.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            if (COMMON.contains(f.getKey()) || shown.contains(f.getKey())) continue;
            JsonNode v = f.getValue();
            sb.append(' ').append(visible(f.getKey())).append('=').append(visible(v.isValueNode() ? v.asText() : v.toString()));
        }
    }

    private String time(JsonNode e) {
        String t = text(e, "time");
        try {
            ZonedDateTime z = Instant.parse(t).atZone(zone);
            String hms = String.format("%02d:%02d:%02d.%03d", z.getHour(), z.getMinute(), z.getSecond(), z.getNano() / 1_000_000);
            return z.toLocalDate().equals(today) ? hms : z.toLocalDate() + " " + hms;
        } catch (RuntimeException notATime) {
            return t;
        }
    }

    private String monitorColor(String monitor) {
        return switch (monitor) {
            case "tcp" -> CYAN;
            case "dns" -> BLUE;
            case "zfs" -> GREEN;
            case "wireguard" -> MAGENTA;
            default -> "";
        };
    }

    private String paint(String code, String s) {
        return color && !code.isEmpty() ? code + s + RESET : s;
    }

    private static String hostPort(String host, String port) {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + (port.isEmpty() ? "" : ":" + port);
    }

    private static String shortId(String id) {
        return id.length() > 12 ? id.substring(0, 12) : id;
    }

    private static String join(JsonNode array) {
        StringBuilder sb = new StringBuilder();
        if (array != null) {
            for (JsonNode n : array) {
                if (sb.length() > 0) sb.append(',');
                sb.append(visible(n.asText()));
            }
        }
        return sb.toString();
    }

    /** A field's text with control characters made visible: a name cannot move the cursor or forge a line. */
    private static String text(JsonNode e, String field) {
        JsonNode n = e.get(field);
        if (n == null || n.isNull()) return "";
        return visible(n.isValueNode() ? n.asText() : n.toString());
    }

    /** Control characters (hostile DNS names, process names) shown as \xNN. */
    static String visible(String s) {
        StringBuilder sb = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0)) {
                if (sb == null) sb = new StringBuilder(s.substring(0, i));
                sb.append(String.format("\\x%02x", (int) c));
            } else if (sb != null) {
                sb.append(c);
            }
        }
        return sb == null ? s : sb.toString();
    }

    private static String pad(String s, int w) {
        return s.length() >= w ? s : s + " ".repeat(w - s.length());
    }

    private static String padLeft(String s, int w) {
        return s.length() >= w ? s : " ".repeat(w - s.length()) + s;
    }
}
