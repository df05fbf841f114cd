package org.proxid;

import java.lang.ref.PhantomReference;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Proxy-user rules given as Hadoop properties: the
 * {@code <prefix>.<proxy>.users|groups|hosts} entries of a Hadoop {@code Configuration}
 * (prefix {@code hadoop.proxyuser} by default), read exactly as proxid reads them from
 * a core-site.xml. {@link Proxid#authorize(ProxyRules, String, String, String)} uses
 * them beside proxid.conf's own rules, with proxid.conf's superuser, protected
 * identities and audit log. Immutable and thread-safe.
 *
 * <p>There is no {@code close()}: the native rules are freed once this object is
 * unreachable (checked whenever new rules are built), so an owner that is simply
 * dropped, like a Hadoop provider replaced on refresh, leaks nothing.
 */
public final class ProxyRules {
    private static final ReferenceQueue<ProxyRules> UNREACHABLE = new ReferenceQueue<>();
    // The phantom references themselves must stay reachable until they are processed.
    private static final Set<Freer> LIVE = Collections.newSetFromMap(new ConcurrentHashMap<>());

    /** Frees the native rules of a {@link ProxyRules} once it is unreachable. */
    private static final class Freer extends PhantomReference<ProxyRules> {
        final long handle;

        Freer(ProxyRules owner, long handle) {
            super(owner, UNREACHABLE);
            this.handle = handle;
        }
    }

    final long handle;

    private ProxyRules(long handle) {
        this.handle = handle;
    }

    /**
     * Builds the rules from {@code properties} (name to value; names not under
     * {@code prefix} are ignored). {@code prefix} is taken with or without its trailing
     * dot. {@code source} names where they came from in decisions and errors, e.g.
     * {@code "Hadoop Configuration"}. Host names in {@code hosts} are resolved now.
     *
     * @throws ConfigException when a value cannot be read (e.g. a {@code ${var}} left)
     */
    public static ProxyRules fromProperties(String prefix, Map<String, String> properties,
            String source) throws ProxidException {
        Objects.requireNonNull(prefix, "prefix");
        Objects.requireNonNull(properties, "properties");
        Objects.requireNonNull(source, "source");
        freeUnreachable();
        String[] keys = new String[properties.size()];
        String[] values = new String[keys.length];
        int i = 0;
        for (Map.Entry<String, String> e : properties.entrySet()) {
            keys[i] = Objects.requireNonNull(e.getKey(), "property name");
            values[i] = Objects.requireNonNull(e.getValue(), "value of " + e.getKey());
            i++;
        }
        long handle = Native.proxyRules(prefix, keys, values, source);
        ProxyRules rules = new ProxyRules(handle);
        LIVE.add(new Freer(rules, handle));
        return rules;
    }

    /** Frees the native rules of every {@link ProxyRules} the GC found unreachable. */
    static void freeUnreachable() {
        for (Reference<? extends ProxyRules> r; (r = UNREACHABLE.poll()) != null; ) {
            Freer freer = (Freer) r;
            if (LIVE.remove(freer)) {
                Native.freeProxyRules(freer.handle);
            }
        }
    }

    /** How many native rule sets are alive (not yet freed); for tests. */
    static int liveCount() {
        return LIVE.size();
    }

}
