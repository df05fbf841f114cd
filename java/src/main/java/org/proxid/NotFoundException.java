package org.proxid;

/** No source knows this user or group. Refuse the request; do not guess. Kind {@code "not_found"}. */
public class NotFoundException extends ProxidException {
    private static final long serialVersionUID = 1L;

    public NotFoundException(String message) {
        super("not_found", message);
    }

    protected NotFoundException(String kind, String message) {
        super(kind, message);
    }
}
