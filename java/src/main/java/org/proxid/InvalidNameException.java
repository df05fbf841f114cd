package org.proxid;

/** The name was rejected before any lookup (empty, NUL, too long, malformed). Fix the input; retrying will not help. Kind {@code "invalid_name"}. */
public class InvalidNameException extends ProxidException {
    private static final long serialVersionUID = 1L;

    public InvalidNameException(String message) {
        super("invalid_name", message);
    }

    protected InvalidNameException(String kind, String message) {
        super(kind, message);
    }
}
