package org.proxid.hadoop;

import java.net.InetAddress;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.security.UserGroupInformation;
import org.apache.hadoop.security.authorize.AuthorizationException;
import org.apache.hadoop.security.authorize.ImpersonationProvider;
import org.proxid.Decision;
import org.proxid.ProxidException;
import org.proxid.ProxyRules;

/**
 * Hadoop proxy-user ("doAs") decisions made by proxid. In {@code core-site.xml}:
 *
 * <pre>{@code
 * <property>
 *   <name>hadoop.security.impersonation.provider.class</name>
 *   <value>org.proxid.hadoop.ProxidImpersonationProvider</value>
 * </property>
 * }</pre>
 *
 * <p>The rules are those of the Hadoop {@link Configuration} it is given, as for
 * Hadoop's {@code DefaultImpersonationProvider}: the {@code <prefix>.<proxy>.users},
 * {@code .groups} and {@code .hosts} properties, where the prefix is what Hadoop passes
 * to {@link #init} ({@code hadoop.proxyuser} by default). proxid.conf adds its own
 * proxy rules ({@code [[impersonation.proxy]]}, {@code hadoop_core_site}) beside them,
 * and decides the superuser, protected identities, {@code on_unauthorized} and the
 * audit log.
 *
 * <p>Only an {@code allowed} verdict lets the request through. A denial, a
 * {@code run-as-self} verdict (this interface can only allow or deny; callers that can
 * fall back to the real user use {@link org.proxid.Proxid#authorize} directly) and any
 * error (unknown user, directory down, bad configuration or rule) throw
 * {@link AuthorizationException}: the provider fails closed.
 *
 * <p>Hadoop builds a new provider on every {@code -refreshSuperUserGroupsConfiguration};
 * the new one re-reads proxid.conf and the Configuration. The native resolver is shared
 * per proxid.conf (see {@link ProxidHolder}) and the rules of a replaced provider are
 * freed once it is garbage, so refreshes leak neither threads nor connections.
 */
public class ProxidImpersonationProvider extends ProxidConfigured
        implements ImpersonationProvider {
    /** Hadoop's default prefix ({@code ProxyUsers.CONF_HADOOP_PROXYUSER}). */
    static final String DEFAULT_PREFIX = "hadoop.proxyuser";

    private String prefix = DEFAULT_PREFIX; // guarded by this
    private ProxyRules rules; // guarded by this; null: not built yet for conf and prefix

    /** Hadoop passes the key prefix of the proxy-user rules (after {@link #setConf}). */
    @Override
    public synchronized void init(String configurationPrefix) {
        prefix = configurationPrefix == null || configurationPrefix.isEmpty()
                ? DEFAULT_PREFIX : configurationPrefix;
        rules = null;
    }

    @Override
    public synchronized void setConf(Configuration conf) {
        super.setConf(conf);
        rules = null;
    }

    /** The Configuration's rules, built on first use (and again after a failure). */
    private synchronized ProxyRules rules() throws ProxidException {
        if (rules == null) {
            Configuration conf = getConf();
            Map<String, String> properties = conf == null
                    ? java.util.Collections.<String, String>emptyMap()
                    // Values with ${var} substituted, as DefaultImpersonationProvider reads them.
                    : conf.getValByRegex("^" + Pattern.quote(prefix.endsWith(".") ? prefix
                            : prefix + "."));
            rules = ProxyRules.fromProperties(prefix, properties, "Hadoop Configuration");
        }
        return rules;
    }

    @Override
    public void authorize(UserGroupInformation user, InetAddress remoteAddress)
            throws AuthorizationException {
        UserGroupInformation real = user.getRealUser();
        if (real == null) {
            return; // not a proxy request: nobody is impersonated (Hadoop does the same)
        }
        String proxy = real.getShortUserName();
        String target = user.getShortUserName();
        String host = remoteAddress == null ? "" : remoteAddress.getHostAddress();
        Decision decision;
        try {
            ProxyRules mine = rules();
            decision = holder().call(p -> p.authorize(mine, proxy, target, host));
        } catch (ProxidException | RuntimeException e) {
            AuthorizationException denied = new AuthorizationException(
                    "User: " + real.getUserName() + " is not allowed to impersonate "
                            + user.getUserName() + " (proxid: " + e.getMessage() + ")");
            denied.initCause(e);
            throw denied;
        }
        if (decision.verdict() != Decision.Verdict.ALLOWED) {
            throw new AuthorizationException("User: " + real.getUserName()
                    + " is not allowed to impersonate " + user.getUserName() + " from " + host
                    + " (proxid: " + decision.verdict() + ", " + decision.reason() + ")");
        }
    }
}
