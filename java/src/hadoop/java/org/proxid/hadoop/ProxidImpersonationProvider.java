package org.proxid.hadoop;

import java.net.InetAddress;
import org.apache.hadoop.security.UserGroupInformation;
import org.apache.hadoop.security.authorize.AuthorizationException;
import org.apache.hadoop.security.authorize.ImpersonationProvider;
import org.proxid.Decision;
import org.proxid.ProxidException;

/**
 * Hadoop proxy-user ("doAs") decisions made by proxid: its proxy rules (which can import
 * {@code hadoop.proxyuser.*} from core-site.xml), protected identities and audit log.
 * In {@code core-site.xml}:
 *
 * <pre>{@code
 * <property>
 *   <name>hadoop.security.impersonation.provider.class</name>
 *   <value>org.proxid.hadoop.ProxidImpersonationProvider</value>
 * </property>
 * }</pre>
 *
 * <p>Only an {@code allowed} verdict lets the request through. A denial, a
 * {@code run-as-self} verdict (this interface can only allow or deny; callers that can
 * fall back to the real user use {@link org.proxid.Proxid#authorize} directly) and any
 * error (unknown user, directory down, bad configuration) throw
 * {@link AuthorizationException}: the provider fails closed.
 *
 * <p>Hadoop builds a new provider on every {@code -refreshSuperUserGroupsConfiguration},
 * which opens a new resolver and so re-reads proxid.conf. The previous one is not
 * closed (Hadoop may still be calling it and never says when it stops); it costs its
 * cache's memory until the process ends.
 */
public class ProxidImpersonationProvider extends ProxidConfigured
        implements ImpersonationProvider {
    /**
     * Hadoop passes the key prefix of its own rules ({@code hadoop.proxyuser}); proxid's
     * rules live in proxid.conf, so there is nothing to read here.
     */
    @Override
    public void init(String configurationPrefix) {}

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
            decision = holder().get().authorize(proxy, target, host);
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
