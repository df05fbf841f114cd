package org.proxid;

/** The source could not answer (LDAP down, NSS module failing). Retry later: the answer is unknown, which is not the same as "no such user". Kind {@code "unavailable"}. */
public class UnavailableException extends ProxidException {
    private static final long serialVersionUID = 1L;

    public UnavailableException(String message) {
        super("unavailable", message);
    }

    protected UnavailableException(String kind, String message) {
        super(kind, message);
    }
}
