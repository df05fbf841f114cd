package org.proxid;

/** An operating-system call failed for a reason other than "not found". Kind {@code "io"}. */
public class SystemException extends ProxidException {
    private static final long serialVersionUID = 1L;

    public SystemException(String message) {
        super("io", message);
    }

    protected SystemException(String kind, String message) {
        super(kind, message);
    }
}
