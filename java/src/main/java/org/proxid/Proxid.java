package org.proxid;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A proxid resolver: names to UID/GIDs (local NSS or LDAP, as {@code /etc/proxid.conf}
 * says) and impersonation decisions. One instance is meant to be shared by every thread
 * of a service; all methods are thread-safe.
 *
 * <pre>{@code
 * try (Proxid proxid = Proxid.open(null)) {
 *     Identity alice = proxid.resolve("alice");
 *     Decision d = proxid.authorize("livy", "alice", "10.0.0.7");
 *     if (d.allowed()) { ... run as d.effective() ... }
 * }
 * }</pre>
 *
 * <p>{@link #close()} frees the native resolver; it is idempotent, waits for calls in
 * progress, and any call after it throws {@link IllegalStateException}. A {@code null}
 * argument (other than where documented) throws {@link NullPointerException}.
 */
public final class Proxid implements AutoCloseable {
    // Calls hold the read lock, close() the write lock: a close can never free the
    // native resolver under a running call, and calls run in parallel with each other.
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private long handle; // guarded by lock; 0 once closed

    private Proxid(long handle) {
        this.handle = handle;
    }

    /**
     * Opens a resolver from a configuration file, or with {@code null} from
     * {@code PROXID_CONF}, else {@code /etc/proxid.conf}, else built-in defaults
     * (local resolution).
     *
     * @throws ConfigException when the configuration is wrong
     * @throws UnsatisfiedLinkError when libproxid.so cannot be loaded
     */
    public static Proxid open(String configPathOrNull) throws ProxidException {
        return new Proxid(Native.open(configPathOrNull));
    }

    /** The version of the loaded native library. */
    public static String nativeVersion() {
        return Native.version();
    }

    /**
     * Resolves a user name.
     *
     * @throws NotFoundException when no source knows the user
     * @throws InvalidNameException when the name is empty, too long or malformed
     * @throws UnavailableException when the source cannot answer now
     */
    public Identity resolve(String name) throws ProxidException {
        Objects.requireNonNull(name, "name");
        return call(h -> Native.resolve(h, name));
    }

    /**
     * Resolves a UID (0 to 2^32-1; anything else throws {@link IllegalArgumentException}).
     *
     * @throws NotFoundException when no user has this UID
     */
    public Identity resolveUid(long uid) throws ProxidException {
        if (uid < 0 || uid > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("uid " + uid + " is outside 0..4294967295");
        }
        return call(h -> Native.resolveUid(h, uid));
    }

    /** The user's group names, primary first (what Hadoop's group mapping returns). */
    public List<String> groups(String name) throws ProxidException {
        return resolve(name).groupNames();
    }

    /**
     * May {@code proxy} act as {@code user} for a request from {@code host} (an IP
     * address or host name)? Deny unless a rule allows; look at {@link Decision#verdict()}.
     * Errors (unknown user, directory down) are thrown, never turned into an allow.
     */
    public Decision authorize(String proxy, String user, String host) throws ProxidException {
        Objects.requireNonNull(proxy, "proxy");
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(host, "host");
        return call(h -> Native.authorize(h, proxy, user, host));
    }

    /**
     * The server side of a request in one call: the mode handshake for both
     * identities ({@link ModeMismatchException}), the exact ID check for both
     * ({@link IdentityMismatchException}, the message says whose IDs differ), names
     * this server cannot resolve ({@link NotFoundException}), then the impersonation
     * decision, as {@link #authorize}. One audit line per call.
     */
    public Decision admit(Assertion proxy, Assertion user, String host) throws ProxidException {
        Objects.requireNonNull(proxy, "proxy");
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(host, "host");
        return call(h -> Native.admit(h, proxy.name(), proxy.uid(), proxy.gidsUnsafe(),
                user.name(), user.uid(), user.gidsUnsafe(), host));
    }

    /**
     * {@link #admit(Assertion, Assertion, String)} with the request as JSON, the form
     * {@code proxid admit --json} takes: {@code {"proxy": {"name", "uid"?, "gids"?},
     * "user": {...}, "host"}}. Unknown fields are refused ({@link InvalidArgumentException}).
     */
    public Decision admit(String requestJson) throws ProxidException {
        Objects.requireNonNull(requestJson, "requestJson");
        return call(h -> Native.admitJson(h, requestJson));
    }

    /**
     * {@link #authorize(String, String, String)} with {@code rules} beside proxid.conf's
     * own proxy rules (kept side by side: one rule must allow both the user and the host).
     * The superuser, protected identities, {@code on_unauthorized} and the audit log are
     * proxid.conf's. This is how the Hadoop provider applies its {@code Configuration}'s
     * {@code hadoop.proxyuser.*} rules.
     */
    public Decision authorize(ProxyRules rules, String proxy, String user, String host)
            throws ProxidException {
        Objects.requireNonNull(rules, "rules");
        Objects.requireNonNull(proxy, "proxy");
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(host, "host");
        return call(h -> Native.authorizeWithRules(h, rules, rules.handle, proxy, user, host));
    }

    /** The short user name for a Kerberos principal, by the configured auth_to_local rules. */
    public String shortName(String principal) throws ProxidException {
        Objects.requireNonNull(principal, "principal");
        return call(h -> Native.shortName(h, principal));
    }

    /** Forgets what the cache holds for one user, or with {@code null} for everyone. */
    public void invalidate(String nameOrNull) throws ProxidException {
        call(h -> {
            Native.invalidate(h, nameOrNull);
            return null;
        });
    }

    /**
     * Loads a new configuration ({@code null}: the file this Proxid was opened from).
     * Calls already running on other threads finish on the old configuration; calls
     * made after this returns use the new one, with an empty cache. A configuration
     * that does not load or validate is refused ({@link ConfigException}) and the old
     * one keeps serving.
     */
    public void reload(String configPathOrNull) throws ProxidException {
        call(h -> {
            Native.reload(h, configPathOrNull);
            return null;
        });
    }

    /** Frees the native resolver. Idempotent; waits for calls in progress to finish. */
    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            long h = handle;
            handle = 0;
            if (h != 0) {
                Native.free(h);
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** True once {@link #close()} has run. */
    public boolean isClosed() {
        lock.readLock().lock();
        try {
            return handle == 0;
        } finally {
            lock.readLock().unlock();
        }
    }

    @FunctionalInterface
    private interface Call<T> {
        T apply(long handle) throws ProxidException;
    }

    private <T> T call(Call<T> body) throws ProxidException {
        lock.readLock().lock();
        try {
            long h = handle;
            if (h == 0) {
                throw new IllegalStateException("proxid: this Proxid is closed");
            }
            return body.apply(h);
        } finally {
            lock.readLock().unlock();
        }
    }
}
