package org.proxid.hadoop;

import org.apache.hadoop.conf.Configuration;
import org.proxid.Proxid;
import org.proxid.ProxidException;

/**
 * Opens one {@link Proxid} for a provider on first use, from the file named by
 * {@value #CONFIG_KEY} in the Hadoop configuration (unset: {@code PROXID_CONF}, else
 * {@code /etc/proxid.conf}). Opening late lets a broken proxid.conf surface as the
 * provider's own checked exception, and be retried, instead of failing Hadoop's start.
 */
final class ProxidHolder {
    /** Hadoop configuration key naming proxid's configuration file. */
    static final String CONFIG_KEY = "hadoop.security.proxid.config";

    private final String configPath;
    private volatile Proxid proxid;

    ProxidHolder(Configuration conf) {
        String path = conf == null ? null : conf.getTrimmed(CONFIG_KEY);
        this.configPath = path == null || path.isEmpty() ? null : path;
    }

    Proxid get() throws ProxidException {
        Proxid p = proxid;
        if (p == null) {
            synchronized (this) {
                p = proxid;
                if (p == null) {
                    p = Proxid.open(configPath);
                    proxid = p;
                }
            }
        }
        return p;
    }

    /** Closes the resolver if one was opened; a later {@link #get()} opens a new one. */
    synchronized void close() {
        Proxid p = proxid;
        proxid = null;
        if (p != null) {
            p.close();
        }
    }
}
