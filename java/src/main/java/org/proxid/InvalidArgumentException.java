package org.proxid;

/** A caller-supplied argument is unusable (bad principal, bad host...). Kind {@code "invalid_argument"}. */
public class InvalidArgumentException extends ProxidException {
    private static final long serialVersionUID = 1L;

    public InvalidArgumentException(String message) {
        super("invalid_argument", message);
    }

    protected InvalidArgumentException(String kind, String message) {
        super(kind, message);
    }
}
