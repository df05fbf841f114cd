package org.proxid.hadoop;

import org.apache.hadoop.conf.Configurable;
import org.apache.hadoop.conf.Configuration;

/**
 * The Hadoop {@link Configurable} plumbing both providers share: each new
 * configuration gets a new {@link ProxidHolder} (so proxid.conf is re-read), and the
 * previous holder of this provider is closed.
 */
public abstract class ProxidConfigured implements Configurable {
    private Configuration conf;
    private ProxidHolder holder = new ProxidHolder(null);

    @Override
    public synchronized void setConf(Configuration conf) {
        this.conf = conf;
        ProxidHolder old = holder;
        holder = new ProxidHolder(conf);
        old.close();
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
