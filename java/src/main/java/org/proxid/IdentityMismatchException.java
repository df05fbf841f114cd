package org.proxid;

/** The client's IDs differ from the server's resolution of the same name. Kind {@code "identity_mismatch"}. */
public class IdentityMismatchException extends ProxidException {
    private static final long serialVersionUID = 1L;

    public IdentityMismatchException(String message) {
        super("identity_mismatch", message);
    }

    protected IdentityMismatchException(String kind, String message) {
        super(kind, message);
    }
}
