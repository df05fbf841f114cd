package org.proxid.hadoop;

import java.util.HashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.proxid.Proxid;
import org.proxid.ProxidException;

/**
 * The native resolver of the providers, one per proxid configuration file for the whole
 * JVM, shared by every provider instance that names that file ({@value #CONFIG_KEY} in
 * the Hadoop configuration; unset: {@code PROXID_CONF}, else {@code /etc/proxid.conf}).
 *
 * <p>Why shared: Hadoop builds a new provider on every
 * {@code -refreshSuperUserGroupsConfiguration} and never tells the old one it is done
 * ({@code ImpersonationProvider} has no close hook), so a resolver per provider would
 * leave its LDAP thread and connections behind on each refresh. Instead a new
 * configuration ({@link #reload}) closes the file's current resolver, once calls in
 * progress end, and the next call opens a fresh one, so proxid.conf is re-read on
 * refresh as before and at most one resolver per file is ever open. A call that meets
 * a resolver closed under it retries on the current one.
 *
 * <p>Opening happens on first use, so a broken proxid.conf surfaces as the provider's
 * own checked exception, and is retried, instead of failing Hadoop's start.
 */
final class ProxidHolder {
    /** Hadoop configuration key naming proxid's configuration file. */
    static final String CONFIG_KEY = "hadoop.security.proxid.config";

    /** Open resolvers by configuration path ("" for the default). Guarded by itself. */
    private static final Map<String, Proxid> OPEN = new HashMap<>();

    private final String configPath;

    ProxidHolder(Configuration conf) {
        String path = conf == null ? null : conf.getTrimmed(CONFIG_KEY);
        this.configPath = path == null || path.isEmpty() ? null : path;
    }

    private String key() {
        return configPath == null ? "" : configPath;
    }

    /** A call on the shared resolver. */
    interface Call<T> {
        T apply(Proxid proxid) throws ProxidException;
    }

    /** Runs {@code body} on this file's resolver, opening it if none is open. */
    <T> T call(Call<T> body) throws ProxidException {
        while (true) {
            Proxid proxid = get();
            try {
                return body.apply(proxid);
            } catch (IllegalStateException e) {
                if (!proxid.isClosed()) {
                    throw e;
                }
                // A reload closed it under this call: the next round opens the new one.
            }
        }
    }

    private Proxid get() throws ProxidException {
        synchronized (OPEN) {
            Proxid proxid = OPEN.get(key());
            if (proxid == null) {
                proxid = Proxid.open(configPath);
                OPEN.put(key(), proxid);
            }
            return proxid;
        }
    }

    /**
     * A new Hadoop configuration arrived: closes this file's resolver (after the calls
     * in progress) so that the next call re-reads proxid.conf.
     */
    void reload() {
        Proxid old;
        synchronized (OPEN) {
            old = OPEN.remove(key());
        }
        if (old != null) {
            old.close();
        }
    }

    /** How many resolvers are open in this JVM; for tests. */
    static int openCount() {
        synchronized (OPEN) {
            return OPEN.size();
        }
    }
}
