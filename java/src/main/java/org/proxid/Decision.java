package org.proxid;

import java.util.Objects;

/** The outcome of an impersonation request, with what the caller and the audit log need. Immutable. */
public final class Decision {
    /** What to do with the request. */
    public enum Verdict {
        /** Act as the target user. */
        ALLOWED,
        /** Refuse the request. */
        DENIED,
        /** Not authorized, but proceed as the proxy itself ({@code on_unauthorized = "run-as-self"}). */
        RUN_AS_SELF;

        static Verdict fromWire(String word) {
            switch (word) {
                case "allowed":
                    return ALLOWED;
                case "denied":
                    return DENIED;
                case "run_as_self":
                    return RUN_AS_SELF;
                default:
                    // An unknown verdict from a newer library must not read as a yes.
                    return DENIED;
            }
        }
    }

    private final Verdict verdict;
    private final String proxy;
    private final String user;
    private final String host;
    private final String effectiveUser;
    private final Identity effective;
    private final String rule;
    private final String reason;

    public Decision(Verdict verdict, String proxy, String user, String host, String effectiveUser,
            Identity effective, String rule, String reason) {
        this.verdict = Objects.requireNonNull(verdict, "verdict");
        this.proxy = Objects.requireNonNull(proxy, "proxy");
        this.user = Objects.requireNonNull(user, "user");
        this.host = Objects.requireNonNull(host, "host");
        this.effectiveUser = Objects.requireNonNull(effectiveUser, "effectiveUser");
        this.effective = effective;
        this.rule = rule;
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /** Called from native code with the verdict as its wire word. */
    Decision(String verdict, String proxy, String user, String host, String effectiveUser,
            Identity effective, String rule, String reason) {
        this(Verdict.fromWire(verdict), proxy, user, host, effectiveUser, effective, rule, reason);
    }

    public Verdict verdict() {
        return verdict;
    }

    /** True only for {@link Verdict#ALLOWED}. */
    public boolean allowed() {
        return verdict == Verdict.ALLOWED;
    }

    public String proxy() {
        return proxy;
    }

    public String user() {
        return user;
    }

    public String host() {
        return host;
    }

    /** Who the operation runs as: the target when allowed, the proxy for run-as-self, empty when denied. */
    public String effectiveUser() {
        return effectiveUser;
    }

    /** The identity behind {@link #effectiveUser()}, or null when there is none. */
    public Identity effective() {
        return effective;
    }

    /** The rule that decided, e.g. {@code proxy livy (proxid.conf)}, or null. */
    public String rule() {
        return rule;
    }

    /** Why, in a word or a phrase. */
    public String reason() {
        return reason;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Decision)) {
            return false;
        }
        Decision d = (Decision) o;
        return verdict == d.verdict && proxy.equals(d.proxy) && user.equals(d.user)
                && host.equals(d.host) && effectiveUser.equals(d.effectiveUser)
                && Objects.equals(effective, d.effective) && Objects.equals(rule, d.rule)
                && reason.equals(d.reason);
    }

    @Override
    public int hashCode() {
        return Objects.hash(verdict, proxy, user, host, effectiveUser, effective, rule, reason);
    }

    @Override
    public String toString() {
        return "Decision{" + verdict + " " + proxy + " as " + user + " from " + host
                + " -> " + effectiveUser + ": " + reason + "}";
    }
}
