package org.proxid.hadoop;

import org.apache.hadoop.conf.Configurable;
import org.apache.hadoop.conf.Configuration;

/**
 * The Hadoop {@link Configurable} plumbing both providers share: each new
 * configuration re-reads proxid.conf (see {@link ProxidHolder}: one resolver per
 * proxid.conf for the whole JVM, closed and reopened on a new configuration).
 */
public abstract class ProxidConfigured implements Configurable {
    private Configuration conf;
    private ProxidHolder holder = new ProxidHolder(null);

    @Override
    public synchronized void setConf(Configuration conf) {
        this.conf = conf;
        holder = new ProxidHolder(conf);
        holder.reload();
    }

    @Override
    public synchronized Configuration getConf() {
        return conf;
    }

    /** The holder for the current configuration. */
    protected synchronized ProxidHolder holder() {
        return holder;
    }
}
