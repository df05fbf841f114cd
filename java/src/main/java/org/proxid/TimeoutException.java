package org.proxid;

/**
 * The source did not answer within the configured time. A kind of
 * {@link UnavailableException}: retry later. Kind {@code "timeout"}.
 */
public class TimeoutException extends UnavailableException {
    private static final long serialVersionUID = 1L;

    public TimeoutException(String message) {
        super("timeout", message);
    }
}
